"""Twin cleanup after a "killed" run (nothing destroyed through the API), the CLI command,
and the handlers' typed errors."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from mcinfra.core.errors import AlreadyExists, InUse, InvalidRequest, NotFound
from mcinfra.core.models import (
    IID,
    HealthChecker,
    Listener,
    NLBReq,
    SubnetReq,
    VMGroup,
    VMReq,
    VMStatus,
    VPCReq,
)
from mcinfra.drivers.twin import netns
from tests.drivers.twin.conftest import OPEN_RULES, Twin, twin_unavailable

pytestmark = pytest.mark.root


def build_region(state_dir: Path) -> tuple[str, str, list[int]]:
    """Build a region with a VPC, two VMs (one running wireguard-go) and an NLB in a child
    process that exits without deleting anything, as a killed test run would."""
    region = f"killed-{uuid.uuid4().hex[:6]}"
    code = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(Path.cwd())!r})
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.twin.driver import TwinDriver
from tests.drivers.twin.conftest import OPEN_RULES, Twin
from mcinfra.core.models import HealthChecker, Listener, NLBReq, VMGroup
c = TwinDriver().connect(SessionInfo(name="k", provider="twin", region={region!r},
                         options={{"state_dir": {str(state_dir)!r}}}))
t = Twin(c, {region!r}, Path({str(state_dir)!r}))
vpc = t.vpc("vpc"); sg = t.sg("sg", vpc, OPEN_RULES); key = t.key("key")
vms = [t.vm(f"vm{{i}}", vpc, [sg], key) for i in range(2)]
c.vms().exec(vms[0].iid, ["wireguard-go", "wg0"])
c.nlbs().create(NLBReq(name="lb", vpc=vpc.iid.system_id, listener=Listener(port=80),
    vm_group=VMGroup(port=80, vms=[v.iid.system_id for v in vms]),
    health_checker=HealthChecker().with_defaults(80)))
print(c.region.prefix)
"""
    env = {"WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    prefix = out.stdout.split()[-1]
    pids = [p for c in netns.cgroup_path("").glob(f"{prefix}-*") for p in netns.cgroup_pids(c.name)]
    return region, prefix, pids


@pytest.fixture
def available() -> None:
    reason = twin_unavailable()
    if reason:
        pytest.skip(reason)


def test_cleanup_after_killed_run_leaves_nothing(available: None, tmp_path: Path) -> None:
    from mcinfra.drivers.twin.cleanup import cleanup_region, leftovers

    state_dir = tmp_path / "state"
    region, prefix, pids = build_region(state_dir)
    before = leftovers(prefix)
    assert len(before.namespaces) == 4  # router, 2 VMs, NLB
    assert len(pids) >= 3  # 2 sshd + wireguard-go
    report = cleanup_region(region, state_dir)
    assert sorted(report.namespaces) == sorted(before.namespaces)
    after = leftovers(prefix)
    assert after.empty, after
    assert not state_dir.exists()
    assert not any(netns.pid_alive(p) for p in pids)
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert prefix not in links


def test_cli_cleanup(available: None, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from mcinfra.cli.twin import app
    from mcinfra.drivers.twin.cleanup import leftovers

    state_dir = tmp_path / "state"
    region, prefix, _ = build_region(state_dir)
    result = CliRunner().invoke(app, ["cleanup", "--region", region, "--state-dir", str(state_dir)])
    assert result.exit_code == 0, result.output
    assert "deleted 4 namespaces" in result.output
    assert leftovers(prefix).empty
    bad = CliRunner().invoke(app, ["cleanup"])
    assert bad.exit_code == 2


def test_cli_cleanup_by_connection(available: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    import mcinfra
    from mcinfra.cli import context
    from mcinfra.cli.twin import app
    from mcinfra.drivers.twin.cleanup import leftovers

    state_dir = tmp_path / "state"
    region, prefix, _ = build_region(state_dir)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with mcinfra.Infra(db) as inf:
        inf.regions.add("tw", provider="twin", region=region)
        inf.connections.add("tw", region="tw", options={"state_dir": str(state_dir)})
    monkeypatch.setenv("MCINFRA_DB", db)
    try:
        result = CliRunner().invoke(app, ["cleanup", "--connection", "tw"])
        missing = CliRunner().invoke(app, ["cleanup", "--connection", "nope"])
    finally:
        context.end(context.state())
    assert result.exit_code == 0, result.output
    assert leftovers(prefix).empty and not state_dir.exists()
    assert missing.exit_code == 4


def test_typed_errors(twin: Twin) -> None:
    vpcs, sgs, vms = twin.conn.vpcs(), twin.conn.security_groups(), twin.conn.vms()
    vpc = twin.vpc("vpc-err", "10.50.0.0/16", "10.50.1.0/24")
    with pytest.raises(AlreadyExists):
        twin.vpc("vpc-err", "10.51.0.0/16", "10.51.1.0/24")
    with pytest.raises(InvalidRequest):
        vpcs.create(VPCReq(name="vpc-public", cidr="198.18.0.0/16"))
    with pytest.raises(InvalidRequest):
        vpcs.add_subnet(vpc.iid, SubnetReq(name="outside", cidr="10.99.0.0/24"))
    with pytest.raises(NotFound):
        vpcs.get(IID(name_id="x", system_id="vpc-nope"))
    sg = twin.sg("sg-err", vpc, OPEN_RULES)
    key = twin.key("key-err")
    with pytest.raises(AlreadyExists):
        sgs.add_rules(sg.iid, [OPEN_RULES[0]])
    with pytest.raises(NotFound):
        vms.start(
            VMReq(
                name="bad-image",
                image="windows-95",
                spec="twin.small",
                vpc=vpc.iid.system_id,
                subnet=vpc.subnets[0].iid.system_id,
                keypair=key.iid.system_id,
            )
        )
    vm = twin.vm("vm-err", vpc, [sg], key)
    with pytest.raises(AlreadyExists):
        twin.vm("vm-err", vpc, [sg], key)
    with pytest.raises(InUse):
        vpcs.delete(vpc.iid)
    with pytest.raises(InUse):
        sgs.delete(sg.iid)
    with pytest.raises(InUse):
        vpcs.remove_subnet(vpc.iid, vpc.subnets[0].iid)
    lb = twin.conn.nlbs().create(
        NLBReq(
            name="lb-err",
            vpc=vpc.iid.system_id,
            listener=Listener(port=80),
            vm_group=VMGroup(port=80, vms=[vm.iid.system_id]),
            health_checker=HealthChecker().with_defaults(80),
        )
    )
    assert vms.status(IID(name_id="gone", system_id="vm-nope")) == VMStatus.NOT_EXIST
    # tear down in dependency order through the API; the fixture then checks nothing is left
    twin.conn.nlbs().delete(lb.iid)
    vms.terminate(vm.iid)
    sgs.delete(sg.iid)
    twin.conn.keypairs().delete(key.iid)
    vpcs.delete(vpc.iid)
    assert vpc.iid.system_id not in [v.iid.system_id for v in vpcs.list()]
