"""Configuration commands: providers, credentials, regions, connections."""

from __future__ import annotations

import json
from pathlib import Path

from mcinfra import Infra
from tests.cli.conftest import Run

SECRETS = ("s3cr3t-VALUE-one", "s3cr3t-VALUE-two")


def test_providers_lists_mock_installed(cli_json) -> None:
    providers = {p["name"]: p for p in cli_json("providers")}
    assert providers["mock"]["installed"] is True
    from mcinfra.drivers.loader import PLANNED

    assert set(PLANNED) <= set(providers) and not any(providers[p]["installed"] for p in PLANNED)


def test_credential_lifecycle_never_prints_values(cli: Run, cli_json, tmp_path: Path) -> None:
    outputs = [cli("credential", "add", "c1", "-p", "mock", "-k", f"access={SECRETS[0]}",
                   "--key", f"secret={SECRETS[1]}").output]
    outputs.append(cli("credential", "list").output)
    outputs.append(cli("credential", "get", "c1").output)
    listed = cli_json("credential", "list")
    got = cli_json("credential", "get", "c1")
    outputs += [json.dumps(listed), json.dumps(got)]
    assert listed == [got]
    assert got["provider"] == "mock" and sorted(got["keys"]) == ["access", "secret"]
    for out in outputs:
        assert "c1" in out
        for secret in SECRETS:
            assert secret not in out
    # a keys file (JSON or KEY=VALUE lines) keeps values out of shell history
    kv = tmp_path / "keys.env"
    kv.write_text(f"# comment\nx={SECRETS[0]}\n\ny={SECRETS[1]}\n")
    out = cli("credential", "add", "c2", "-p", "mock", "--keys-file", str(kv)).output
    assert SECRETS[0] not in out
    assert sorted(cli_json("credential", "get", "c2")["keys"]) == ["x", "y"]
    js = tmp_path / "keys.json"
    js.write_text(json.dumps({"z": SECRETS[0]}))
    cli("credential", "add", "c3", "-p", "mock", "--keys-file", str(js))
    assert cli_json("credential", "get", "c3")["keys"] == ["z"]
    # the values really are stored (and usable by a driver)
    with Infra() as infra:
        assert infra.store.credential("c1")[1] == {"access": SECRETS[0], "secret": SECRETS[1]}
    assert cli_json("credential", "delete", "c1") == {"ok": True, "deleted": "c1"}
    assert [c["name"] for c in cli_json("credential", "list")] == ["c2", "c3"]


def test_malformed_key_is_rejected_without_echoing_it(cli: Run) -> None:
    r = cli("credential", "add", "c1", "-p", "mock", "-k", "novalue" + SECRETS[0], ok=False)
    assert r.exit_code == 3
    assert "KEY=VALUE" in r.stderr and SECRETS[0] not in r.output
    r = cli("credential", "add", "c1", "-p", "nocloud", "-k", f"a={SECRETS[0]}", ok=False)
    assert r.exit_code == 3 and "unknown provider" in r.stderr and SECRETS[0] not in r.output


def test_region_lifecycle(cli: Run, cli_json) -> None:
    info = cli_json("region", "add", "r1", "-p", "mock", "-r", "mercury", "-z", "mercury-b", "--extra", "tier=2",
                    "--extra", "label=x")
    assert info == {"name": "r1", "provider": "mock", "region": "mercury", "zone": "mercury-b",
                    "extra": {"tier": 2, "label": "x"}}
    assert cli_json("region", "list") == [info]
    assert cli_json("region", "get", "r1") == info
    cli("region", "delete", "r1")
    r = cli("region", "get", "r1", ok=False)
    assert r.exit_code == 4 and "r1" in r.stderr


def test_connection_options_parsed_as_json_and_mock_state_default(cli: Run, cli_json, home: Path) -> None:
    info = cli_json("connection", "add", "m1", "-p", "mock", "-o", "latency=0.01", "-o", "seed=7",
                    "-o", "note=plain text", "-o", "range=[0.01, 0.02]")
    assert info["options"] == {"latency": 0.01, "seed": 7, "note": "plain text", "range": [0.01, 0.02],
                               "state_path": str(home / "mock-cloud.json")}
    # an explicit state_path wins; null keeps the mock cloud in the process's memory
    assert cli_json("connection", "add", "m2", "-p", "mock", "-o", "state_path=/tmp/x.json")["options"] == {
        "state_path": "/tmp/x.json"}
    assert cli_json("connection", "add", "m3", "-p", "mock", "-o", "state_path=null")["options"] == {
        "state_path": None}
    # provider implied by the region
    cli("region", "add", "r1", "-p", "mock", "-r", "venus")
    info = cli_json("connection", "add", "m4", "--region", "r1")
    assert info["provider"] == "mock" and info["options"]["state_path"] == str(home / "mock-cloud.json")
    assert [c["name"] for c in cli_json("connection", "list")] == ["m1", "m2", "m3", "m4"]
    assert cli_json("connection", "get", "m4")["region"] == "r1"
    r = cli("region", "delete", "r1", ok=False)
    assert r.exit_code == 6 and "m4" in r.stderr
    cli("connection", "delete", "m4")
    cli("region", "delete", "r1")


def test_connection_with_resources_cannot_be_deleted(cli: Run, mock_conn: str) -> None:
    cli("vpc", "create", "v1", "-c", mock_conn, "--cidr", "10.0.0.0/16")
    r = cli("connection", "delete", mock_conn, ok=False)
    assert r.exit_code == 6 and "v1" in r.stderr
    cli("destroy", "-c", mock_conn)
    cli("connection", "delete", mock_conn)


def test_db_option_uses_that_store(cli: Run, cli_json, tmp_path: Path, home: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    cli("--db", url, "region", "add", "r9", "-p", "mock", "-r", "mars")
    assert [r["name"] for r in cli_json("--db", url, "region", "list")] == ["r9"]
    assert cli_json("region", "list") == []  # the embedded store is another store
    assert (tmp_path / "other.db").exists()
