"""A resource flow through the CLI on mock: every kind's calls, --json parsed, separate commands
sharing one mock cloud through $MCINFRA_HOME/mock-cloud.json."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from mcinfra import Infra
from tests.cli.conftest import Run, mock_resources


def _network(cli: Run, cli_json, c: str) -> None:
    vpc = cli_json("vpc", "create", "vpc-01", "-c", c, "--cidr", "10.0.0.0/16", "-s", "sn-01=10.0.1.0/24",
                   "-s", "sn-02=10.0.2.0/24@default-b")
    assert vpc["iid"]["name_id"] == "vpc-01" and vpc["cidr"] == "10.0.0.0/16"
    assert {(s["iid"]["name_id"], s["cidr"], s["zone"]) for s in vpc["subnets"]} == {
        ("sn-01", "10.0.1.0/24", "default-a"), ("sn-02", "10.0.2.0/24", "default-b")}
    vpc = cli_json("vpc", "add-subnet", "vpc-01", "sn-03", "-c", c, "--cidr", "10.0.3.0/24")
    assert "sn-03" in {s["iid"]["name_id"] for s in vpc["subnets"]}
    cli("vpc", "remove-subnet", "vpc-01", "sn-03", "-c", c)
    assert {s["iid"]["name_id"] for s in cli_json("vpc", "get", "vpc-01", "-c", c)["subnets"]} == {"sn-01", "sn-02"}
    assert [v["iid"]["name_id"] for v in cli_json("vpc", "list", "-c", c)] == ["vpc-01"]

    sg = cli_json("sg", "create", "sg-01", "-c", c, "--vpc", "vpc-01", "-r", "inbound:tcp:22",
                  "-r", "inbound:tcp:8000:8100:10.0.0.0/8", "-r", "inbound:icmp:::192.168.0.0/16",
                  "-r", "inbound:tcp:443:443:::/0")
    rules = {(r["direction"], r["protocol"], r["from_port"], r["to_port"], r["cidr"]) for r in sg["rules"]}
    assert rules == {("outbound", "ALL", -1, -1, "0.0.0.0/0"), ("inbound", "TCP", 22, 22, "0.0.0.0/0"),
                     ("inbound", "TCP", 8000, 8100, "10.0.0.0/8"), ("inbound", "ICMP", -1, -1, "192.168.0.0/16"),
                     ("inbound", "TCP", 443, 443, "::/0")}
    assert sg["vpc"] == "vpc-01"
    sg = cli_json("sg", "add-rules", "sg-01", "-c", c, "-r", "inbound:udp:53:53:10.0.0.0/8")
    assert len(sg["rules"]) == 6
    r = cli("sg", "add-rules", "sg-01", "-c", c, "-r", "inbound:udp:53:53:10.0.0.0/8", ok=False)
    assert r.exit_code == 5 and "already has rule" in r.stderr
    sg = cli_json("sg", "remove-rules", "sg-01", "-c", c, "-r", "inbound:udp:53:53:10.0.0.0/8", "-r", "outbound:all")
    assert len(sg["rules"]) == 4 and all(r["direction"] == "inbound" for r in sg["rules"])
    r = cli("sg", "remove-rules", "sg-01", "-c", c, "-r", "outbound:all", ok=False)
    assert r.exit_code == 4


def _keys(cli: Run, cli_json, c: str, tmp_path: Path) -> None:
    shown = cli("keypair", "create", "key-01", "-c", c)
    assert "BEGIN OPENSSH PRIVATE KEY" in shown.stdout
    out = tmp_path / "key-02.pem"
    info = cli_json("keypair", "create", "key-02", "-c", c, "--out", str(out))
    assert info["private_key"] is None and info["private_key_file"] == str(out)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert out.read_text().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    # an existing --out is refused before any key is made
    r = cli("keypair", "create", "key-03", "-c", c, "--out", str(out), ok=False)
    assert r.exit_code == 3
    assert {k["iid"]["name_id"] for k in cli_json("keypair", "list", "-c", c)} == {"key-01", "key-02"}
    got = cli("keypair", "get", "key-01", "-c", c)
    assert "PRIVATE KEY" not in got.stdout
    assert cli_json("keypair", "get", "key-02", "-c", c)["private_key"] is None
    cli("keypair", "delete", "key-02", "-c", c)
    with_json = cli_json("keypair", "create", "key-04", "-c", c)
    assert "PRIVATE KEY" in with_json["private_key"]
    cli("keypair", "delete", "key-04", "-c", c)
    # importing a public key: nothing private to show
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pub = Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    pub_file = tmp_path / "id.pub"
    pub_file.write_text(pub + " me@host\n")
    imported = cli("keypair", "create", "key-05", "-c", c, "--public-key-file", str(pub_file))
    assert "PRIVATE KEY" not in imported.stdout and "private key (" not in imported.stdout
    assert cli_json("keypair", "get", "key-05", "-c", c)["public_key"].startswith(pub)
    cli("keypair", "delete", "key-05", "-c", c)
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    assert cli("keypair", "create", "key-06", "-c", c, "--public-key-file", str(bad), ok=False).exit_code == 3


def _vms(cli: Run, cli_json, c: str) -> None:
    for name, subnet in (("vm-01", "sn-01"), ("vm-02", "sn-01"), ("vm-03", "sn-02")):
        vm = cli_json("vm", "start", name, "-c", c, "--image", "ubuntu-22.04", "--spec", "t2.micro", "--vpc", "vpc-01",
                      "--subnet", subnet, "--sg", "sg-01", "-k", "key-01")
        assert vm["status"] == "Running" and vm["subnet"] == subnet and vm["security_groups"] == ["sg-01"]
        assert vm["keypair"] == "key-01" and vm["public_ip"]
    assert cli_json("vm", "statuses", "-c", c) == {"vm-01": "Running", "vm-02": "Running", "vm-03": "Running"}
    assert cli_json("vm", "suspend", "vm-03", "-c", c, "--wait") == {"name": "vm-03", "status": "Suspended"}
    assert cli_json("vm", "status", "vm-03", "-c", c)["status"] == "Suspended"
    r = cli("vm", "suspend", "vm-03", "-c", c, ok=False)
    assert r.exit_code == 3 and "Suspended" in r.stderr
    assert cli_json("vm", "resume", "vm-03", "-c", c, "--wait")["status"] == "Running"
    assert cli_json("vm", "reboot", "vm-03", "-c", c)["status"] in ("Rebooting", "Running")
    assert cli_json("vm", "wait", "vm-03", "Running", "-c", c)["status"] == "Running"
    assert [v["iid"]["name_id"] for v in cli_json("vm", "list", "-c", c)] == ["vm-01", "vm-02", "vm-03"]
    assert cli_json("vm", "get", "vm-01", "-c", c)["vpc"] == "vpc-01"


def _nlb(cli: Run, cli_json, c: str) -> None:
    nlb = cli_json("nlb", "create", "nlb-01", "-c", c, "--vpc", "vpc-01", "-l", "TCP:80", "--vm", "vm-01",
                   "--vm", "vm-02", "--health-checker", "HTTP:8080")
    assert nlb["vm_group"] == {"protocol": "TCP", "port": 80, "vms": ["vm-01", "vm-02"]}
    assert nlb["health_checker"] == {"protocol": "HTTP", "port": 8080, "interval": 10, "timeout": 6, "threshold": 3}
    assert cli_json("nlb", "add-vms", "nlb-01", "-c", c, "--vm", "vm-03")["vms"] == ["vm-01", "vm-02", "vm-03"]
    cli("vm", "suspend", "vm-02", "-c", c, "--wait")
    health = cli_json("nlb", "health", "nlb-01", "-c", c)
    assert sorted(health["healthy"]) == ["vm-01", "vm-03"] and health["unhealthy"] == ["vm-02"]
    cli("vm", "resume", "vm-02", "-c", c, "--wait")
    assert cli_json("nlb", "remove-vms", "nlb-01", "-c", c, "--vm", "vm-03")["vms"] == ["vm-01", "vm-02"]
    assert cli_json("nlb", "change-listener", "nlb-01", "udp:53", "-c", c)["port"] == 53
    assert cli_json("nlb", "change-vm-group", "nlb-01", "UDP:5353", "-c", c)["port"] == 5353
    hc = cli_json("nlb", "change-health-checker", "nlb-01", "TCP::5::2", "-c", c)
    assert hc == {"protocol": "TCP", "port": 5353, "interval": 5, "timeout": 10, "threshold": 2}
    got = cli_json("nlb", "get", "nlb-01", "-c", c)
    assert got["listener"]["protocol"] == "UDP" and got["vm_group"]["vms"] == ["vm-01", "vm-02"]
    assert len(cli_json("nlb", "list", "-c", c)) == 1
    r = cli("vm", "terminate", "vm-01", "-c", c, ok=False)
    assert r.exit_code == 6 and "nlb-01" in r.stderr


def _register(cli: Run, cli_json, c: str) -> None:
    sid = cli_json("vm", "get", "vm-03", "-c", c)["iid"]["system_id"]
    cli("vm", "unregister", "vm-03", "-c", c)
    la = cli_json("vm", "list-all", "-c", c)
    assert [i["system_id"] for i in la["only_csp"]] == [sid] and la["only_store"] == []
    assert {i["name_id"] for i in la["mapped"]} == {"vm-01", "vm-02"}
    assert cli_json("vm", "register", "vm-03b", sid, "-c", c)["iid"] == {"name_id": "vm-03b", "system_id": sid}
    cli("vm", "unregister", "vm-03b", "-c", c)
    cli("vm", "delete-csp", sid, "-c", c)
    assert cli_json("vm", "list-all", "-c", c)["only_csp"] == []
    # the same calls on another kind: an SG made, forgotten, re-adopted
    cli("sg", "create", "sg-tmp", "-c", c, "--vpc", "vpc-01")
    sg_sid = cli_json("sg", "get", "sg-tmp", "-c", c)["iid"]["system_id"]
    cli("sg", "unregister", "sg-tmp", "-c", c)
    assert [i["system_id"] for i in cli_json("sg", "list-all", "-c", c)["only_csp"]] == [sg_sid]
    r = cli("sg", "delete-csp", cli_json("sg", "get", "sg-01", "-c", c)["iid"]["system_id"], "-c", c, ok=False)
    assert r.exit_code == 3  # mapped: delete it by name
    cli("sg", "delete-csp", sg_sid, "-c", c)
    for kind in ("vpc", "keypair", "nlb"):
        assert cli_json(kind, "list-all", "-c", c)["only_csp"] == []


def _catalogs(cli: Run, cli_json, c: str) -> None:
    regions = cli_json("region-zone", "list", "-c", c)
    assert len(regions) >= 4 and all(len(r["zones"]) == 3 for r in regions)
    assert cli_json("region-zone", "get", "mars", "-c", c)["name"] == "mars"
    assert len(cli_json("image", "list", "-c", c)) >= 20
    assert cli_json("image", "get", "debian-12", "-c", c)["os_distribution"] == "Debian 12"
    assert len(cli_json("spec", "list", "-c", c)) >= 20
    assert cli_json("spec", "get", "t2.micro", "-c", c)["vcpus"] == 1
    for args in (("image", "list"), ("spec", "get", "t2.micro"), ("region-zone", "list")):
        assert cli(*args, "-c", c).stdout.strip()
    assert cli("spec", "get", "nope", "-c", c, ok=False).exit_code == 4


def test_full_flow_through_the_cli(cli: Run, cli_json, mock_conn: str, home: Path, tmp_path: Path) -> None:
    c = mock_conn
    _network(cli, cli_json, c)
    _keys(cli, cli_json, c, tmp_path)
    _vms(cli, cli_json, c)
    _nlb(cli, cli_json, c)
    _register(cli, cli_json, c)
    _catalogs(cli, cli_json, c)
    # every table view renders
    for kind in ("vpc", "sg", "keypair", "vm", "nlb"):
        out = cli(kind, "list", "-c", c).stdout
        assert out.strip() and "Traceback" not in out
        assert cli(kind, "list-all", "-c", c).stdout.strip()
    assert "vm-01" in cli("vm", "statuses", "-c", c).stdout
    assert "healthy" in cli("nlb", "health", "nlb-01", "-c", c).stdout

    history = cli_json("history", "-c", c, "--kind", "vm", "-n", "500")
    assert history and {h["connection"] for h in history} == {c} and {h["kind"] for h in history} == {"vm"}
    assert all(not h["ok"] for h in cli_json("history", "--errors", "-n", "500"))
    starts = cli_json("history", "--kind", "vm", "--operation", "start", "-n", "500")
    assert len(starts) == 3 and starts == cli_json("history", "--operation", "vm.start", "-n", "500")
    assert cli("history", "--operation", "start", ok=False).exit_code == 3
    assert "Call history" in cli("history", "-n", "3").stdout
    assert cli_json("lock", "info") == []
    assert cli_json("reconcile") == {"finished": [], "rolled_back": [], "deleted": [], "forgotten": [], "failed": {}}

    assert mock_resources(home)["vm"] == 2
    report = cli_json("destroy", "-c", c)
    assert report["all_destroyed"] is True
    assert set(report["deleted"]) == {"nlb", "vm", "keypair", "security_group", "vpc"}
    assert mock_resources(home) == {k: 0 for k in ("vpc", "security_group", "keypair", "vm", "nlb")}
    with Infra() as infra:
        assert infra.store.list(c) == []
    cli("connection", "delete", c)


def test_global_json_flag_and_connection_env(cli: Run, mock_conn: str, monkeypatch) -> None:
    import json

    monkeypatch.setenv("MCINFRA_CONNECTION", mock_conn)
    cli("vpc", "create", "v1", "--cidr", "10.1.0.0/16")
    data = json.loads(cli("--json", "vpc", "list").stdout)
    assert [v["iid"]["name_id"] for v in data] == ["v1"]
    assert json.loads(cli("--json", "vpc", "delete", "v1").stdout) == {"ok": True, "deleted": "v1"}


def test_terminated_vm_frees_its_sg_and_vpc_with_latency(cli: Run, cli_json, home: Path) -> None:
    """With mock latency a VM passes through Terminating; once gone, its SG/subnet/VPC delete at once."""
    cli("connection", "add", "slow", "-p", "mock", "-o", "latency=0.01")
    c = "slow"
    cli("vpc", "create", "v", "-c", c, "--cidr", "10.0.0.0/16", "-s", "sn=10.0.1.0/24", "-s", "sn2=10.0.2.0/24")
    cli("sg", "create", "s", "-c", c, "--vpc", "v")
    cli("keypair", "create", "k", "-c", c)
    cli("vm", "start", "vm", "-c", c, "--image", "debian-12", "--spec", "t2.micro", "--vpc", "v", "--subnet", "sn",
        "--sg", "s", "-k", "k")
    assert cli_json("vm", "terminate", "vm", "-c", c)["status"] in ("NotExist", "Terminated")
    cli("sg", "delete", "s", "-c", c)
    cli("vpc", "remove-subnet", "v", "sn", "-c", c)
    cli("keypair", "delete", "k", "-c", c)
    cli("vpc", "delete", "v", "-c", c)
    assert mock_resources(home) == {k: 0 for k in ("vpc", "security_group", "keypair", "vm", "nlb")}
