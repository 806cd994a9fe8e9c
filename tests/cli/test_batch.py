"""`mcinfra vm start-many` / `terminate-many` / `mcinfra batch FILE` on the CLI's mock cloud."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run


def _network(cli: Run) -> None:
    cli("connection", "add", "m1", "--provider", "mock")
    cli("vpc", "create", "v1", "-c", "m1", "--cidr", "10.0.0.0/16", "-s", "sn=10.0.1.0/24")
    cli("sg", "create", "sg1", "-c", "m1", "--vpc", "v1")
    cli("keypair", "create", "k1", "-c", "m1", "--json")


def test_start_many_by_count_and_file_then_terminate_many(cli: Run, tmp_path: Path) -> None:
    _network(cli)
    common = ["--image", "ubuntu-22.04", "--spec", "t2.micro", "--vpc", "v1", "--subnet", "sn", "--sg", "sg1",
              "-k", "k1"]
    out = json.loads(cli("vm", "start-many", "-c", "m1", "--count", "3", "--name-prefix", "w", *common,
                         "--no-wait", "--json").stdout)
    assert out["counts"]["ok"] == 3 and [i["name"] for i in out["items"]] == ["w-1", "w-2", "w-3"]
    spec = tmp_path / "vms.json"
    spec.write_text(json.dumps({"defaults": {"image": "ubuntu-22.04", "spec": "t2.micro", "vpc": "v1",
                                             "subnet": "sn", "security_groups": ["sg1"], "keypair": "k1"},
                                "requests": [{"name": "f-1"}, {"name": "w-1"}]}))
    r = cli("vm", "start-many", "-c", "m1", "--file", str(spec), "--json", ok=False)
    assert r.exit_code == 13  # w-1 exists: that item fails, f-1 works
    items = json.loads(r.stdout)["items"]
    assert [i["status"] for i in items] == ["ok", "failed"] and items[1]["error_type"] == "AlreadyExists"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"name": "x-1", "image": "ubuntu-22.04"}]))
    r = cli("vm", "start-many", "-c", "m1", "--file", str(bad), ok=False)
    assert r.exit_code == 3 and "requests[0]" in r.stderr
    r = cli("vm", "terminate-many", "-c", "m1", "w-1", "w-2", "w-3", "f-1", "--no-wait")
    assert "4 ok" in r.stdout


def test_batch_file_across_kinds(cli: Run, tmp_path: Path) -> None:
    cli("connection", "add", "m1", "--provider", "mock")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps([
        {"connection": "m1", "op": "vpcs.create", "args": {"name": "v1", "cidr": "10.0.0.0/16"}},
        {"connection": "m1", "op": "keypairs.create", "args": {"name": "k1"}},
        {"connection": "m1", "op": "vpcs.create", "args": {"name": "v2", "cidr": "10.1.0.0/16"}},
    ]))
    out = json.loads(cli("batch", str(plan), "--json").stdout)
    assert out["counts"]["ok"] == 3 and out["items"][1]["result"]["private_key"]
