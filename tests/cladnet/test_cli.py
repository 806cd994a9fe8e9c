"""The `cladnet` CLI on the mock driver (no VM is contacted: no SSH key is given)."""

import pytest
from typer.testing import CliRunner

import mcinfra
from mcinfra import SubnetReq
from mcinfra.cli import cladnet as cli

runner = CliRunner()


@pytest.fixture
def db(tmp_path, monkeypatch):
    from mcinfra.drivers.mock.state import reset

    reset()
    url = f"sqlite:///{tmp_path / 'm.db'}"
    infra = mcinfra.Infra(url)
    infra.connections.add("m1", provider="mock")
    c = infra.connect("m1")
    c.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-01", cidr="10.0.1.0/24")])
    c.security_groups.create("sg-01", vpc="vpc-01", rules=[])
    c.keypairs.create("key-01")
    img, spec = c.images.list()[0].iid.name_id, c.specs.list()[0].name
    c.vms.start("vm-0", image=img, spec=spec, vpc="vpc-01", subnet="sn-01", security_groups=["sg-01"],
                keypair="key-01")
    infra.store.close()
    monkeypatch.setenv("MCINFRA_DB", url)
    from mcinfra.cli import context

    monkeypatch.setattr(context, "_current", None)
    monkeypatch.setattr(cli.console, "width", 200)
    monkeypatch.setattr(cli.err, "width", 200)
    yield url
    reset()


def test_recommend_create_show_deploy_failure(db):
    r = runner.invoke(cli.app, ["recommend", "--vm", "m1/vm-0"])
    assert r.exit_code == 0, r.output
    assert "recommended for 1 peers" in r.output
    r = runner.invoke(cli.app, ["create", "mesh", "--space", "10.0.9.0/24", "--vm", "m1/vm-0"])
    assert r.exit_code == 3 and "overlaps 10.0.0.0/16" in r.output  # InvalidRequest
    r = runner.invoke(cli.app, ["create", "mesh", "--vm", "m1/vm-0", "--rule-type", "cost-prioritized"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli.app, ["show"])
    assert "mesh" in r.output and "cost-prioritized" in r.output
    # no --ssh-key for the VM's key pair: the peer fails with the reason, exit 1
    r = runner.invoke(cli.app, ["deploy", "mesh", "m1/vm-0"])
    assert r.exit_code == 1 and "no SSH private key for key pair m1/key-01" in r.output
    r = runner.invoke(cli.app, ["show", "mesh", "--rules"])
    assert "m1/vm-0" in r.output and "failed" in r.output
    r = runner.invoke(cli.app, ["deploy", "mesh", "--ssh-key", "m1/key-01=/nonexistent"])
    assert r.exit_code == 2 and "cannot read SSH key file" in r.output
    r = runner.invoke(cli.app, ["delete", "mesh", "--force"])
    assert r.exit_code == 1 and "failed" in r.output
    assert "mesh" not in runner.invoke(cli.app, ["show"]).output
    r = runner.invoke(cli.app, ["show", "mesh"])
    assert r.exit_code == 4  # NotFound


def test_mounted_under_the_main_cli(db):
    from mcinfra.cli.main import app

    r = runner.invoke(app, ["cladnet", "recommend", "--cidr", "10.0.0.0/8", "--peers", "3"])
    assert r.exit_code == 0, r.output
    assert "172." in r.output
