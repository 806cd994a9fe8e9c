"""Twin VMs: SSH with the key pair's key, private /etc and /run, sudo + wireguard-go,
suspend/resume (new public IP), reboot, terminate, a second process seeing the same cloud,
and a half-built VM torn down."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest

from mcinfra.core.errors import CloudError, NotFound
from mcinfra.core.models import VMStatus
from tests.drivers.twin.conftest import OPEN_RULES, Twin

pytestmark = pytest.mark.root


def ssh(host: str, private_key: str, command: str, timeout: float = 30) -> str:
    import asyncssh

    async def go() -> str:
        key = asyncssh.import_private_key(private_key)
        async with asyncssh.connect(
            host, username="cb-user", client_keys=[key], known_hosts=None, connect_timeout=timeout
        ) as conn:
            result = await conn.run(command, check=True, timeout=timeout)
            return str(result.stdout)

    return asyncio.run(go())


@pytest.fixture(scope="module")
def setup(twin: Twin) -> dict:
    vpc = twin.vpc("vpc-a")
    sg = twin.sg("sg-a", vpc, OPEN_RULES)
    key = twin.key("key-a")
    vm1 = twin.vm("vm-1", vpc, [sg], key)
    vm2 = twin.vm("vm-2", vpc, [sg], key)
    return {"vpc": vpc, "sg": sg, "key": key, "vm1": vm1, "vm2": vm2}


def test_ssh_with_keypair_lands_in_private_views(twin: Twin, setup: dict) -> None:
    key, vm1, vm2 = setup["key"], setup["vm1"], setup["vm2"]
    assert vm1.status == VMStatus.RUNNING and vm1.vm_user == "cb-user" and vm1.ssh_port == 22
    out = ssh(vm1.public_ip, key.private_key, "echo $USER; hostname; sudo -n true && echo sudo-ok")
    assert out.split() == ["cb-user", "vm-1", "sudo-ok"]
    ssh(vm1.public_ip, key.private_key, "echo secret-1 | sudo tee /etc/wireguard/wg9.conf >/dev/null")
    assert "secret-1" in ssh(vm1.public_ip, key.private_key, "sudo cat /etc/wireguard/wg9.conf")
    out2 = ssh(vm2.public_ip, key.private_key, "ls /etc/wireguard; ls /run; echo done")
    assert "wg9.conf" not in out2 and "netns" not in out2
    host_etc = subprocess.run(["ls", "/etc/wireguard"], capture_output=True, text=True).stdout
    assert "wg9.conf" not in host_etc


def test_wireguard_go_and_ping_inside_vm(twin: Twin, setup: dict) -> None:
    key, vm1, vm2 = setup["key"], setup["vm1"], setup["vm2"]
    cmd = (
        "sudo env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go wg7 >/dev/null 2>&1; "
        "sudo wg show wg7 listen-port; ls /run/wireguard; ping -c1 -W2 "
        + vm2.private_ip
        + " >/dev/null && echo ping-ok"
    )
    out = ssh(vm1.public_ip, key.private_key, cmd)
    assert "wg7.sock" in out and "ping-ok" in out
    # the other VM has no such interface: each VM is its own network namespace
    assert "wg7" not in ssh(vm2.public_ip, key.private_key, "ip -o link; ls /run/wireguard")


def test_wrong_key_is_refused(twin: Twin, setup: dict) -> None:
    import asyncssh

    other = twin.key("key-other")
    with pytest.raises(asyncssh.PermissionDenied):
        ssh(setup["vm1"].public_ip, other.private_key, "true")


def test_second_process_sees_the_same_vms(twin: Twin, setup: dict) -> None:
    code = textwrap.dedent(
        f"""
        import json
        from mcinfra.core.handlers import SessionInfo
        from mcinfra.drivers.twin.driver import TwinDriver
        c = TwinDriver().connect(SessionInfo(name="x", provider="twin", region={twin.region!r},
                                 options={{"state_dir": {str(twin.state_dir)!r}}}))
        print(json.dumps({{v.iid.name_id: [v.public_ip, v.status.value] for v in c.vms().list()}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    seen = json.loads(out)
    assert seen["vm-1"] == [setup["vm1"].public_ip, "Running"]
    assert seen["vm-2"] == [setup["vm2"].public_ip, "Running"]


def test_suspend_resume_changes_public_ip_and_reboot(twin: Twin, setup: dict) -> None:
    vms = twin.conn.vms()
    key, vm1 = setup["key"], setup["vm1"]
    assert vms.suspend(vm1.iid) == VMStatus.SUSPENDING
    assert vms.status(vm1.iid) == VMStatus.SUSPENDED
    with pytest.raises((OSError, asyncio.TimeoutError)):
        ssh(vm1.public_ip, key.private_key, "true", timeout=2)
    assert vms.resume(vm1.iid) == VMStatus.RESUMING
    assert vms.status(vm1.iid) == VMStatus.RUNNING
    resumed = vms.get(vm1.iid)
    assert resumed.public_ip != vm1.public_ip
    assert ssh(resumed.public_ip, key.private_key, "echo back").strip() == "back"
    assert vms.reboot(vm1.iid) == VMStatus.REBOOTING
    assert ssh(resumed.public_ip, key.private_key, "echo rebooted").strip() == "rebooted"
    setup["vm1"] = vms.get(vm1.iid)


def test_resumed_vm_flows_leave_from_its_new_public_ip(twin: Twin, setup: dict) -> None:
    """The router forgets the NAT bindings of a released address: a flow the VM had before
    suspend (same ports, as a WireGuard peer's) leaves from the new address after resume."""
    import socket

    from mcinfra.drivers.twin.state import HOST_PUBLIC_IP

    vms, vm2 = twin.conn.vms(), setup["vm2"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as host:
        host.bind((HOST_PUBLIC_IP, 0))
        host.settimeout(10)
        send = (
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', 41820)); "
            f"s.sendto(b'x', ('{HOST_PUBLIC_IP}', {host.getsockname()[1]}))"
        )

        def source() -> str:
            vms.exec(vm2.iid, ["python3", "-c", send])
            return host.recvfrom(16)[1][0]

        assert source() == vm2.public_ip
        vms.suspend(vm2.iid)
        vms.resume(vm2.iid)
        resumed = vms.get(vm2.iid)
        assert resumed.public_ip != vm2.public_ip
        assert source() == resumed.public_ip
    setup["vm2"] = resumed


def test_half_built_vm_is_torn_down(twin: Twin, setup: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcinfra.drivers.twin import machine
    from mcinfra.drivers.twin.cleanup import leftovers

    monkeypatch.setattr(machine, "SSHD_CONFIG", machine.SSHD_CONFIG + "NoSuchOption yes\n")
    before = leftovers(twin.prefix)
    with pytest.raises(CloudError) as err:
        twin.vm("vm-broken", setup["vpc"], [setup["sg"]], setup["key"])
    assert err.value.code == "BootFailed" and "torn down" in str(err.value)
    assert "NoSuchOption" in str(err.value)
    after = leftovers(twin.prefix)
    assert sorted(after.namespaces) == sorted(before.namespaces)
    assert sorted(after.cgroups) == sorted(before.cgroups)
    assert "vm-broken" not in [v.iid.name_id for v in twin.conn.vms().list()]


def test_terminate(twin: Twin, setup: dict) -> None:
    vms = twin.conn.vms()
    vm2 = setup["vm2"]
    ns = vm2.extra["namespace"]
    assert vms.terminate(vm2.iid) == VMStatus.TERMINATING
    assert vms.status(vm2.iid) == VMStatus.NOT_EXIST
    with pytest.raises(NotFound):
        vms.get(vm2.iid)
    assert ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout


def test_wireguard_tunnel_between_vms_over_public_ips(twin: Twin) -> None:
    """What CLADNet does on the twin: wg-quick (falling back to wireguard-go) over public IPs."""
    from mcinfra.core.models import DEFAULT_OUTBOUND_RULE, SecurityRule

    key = twin.key("key-wg")
    rules = [
        DEFAULT_OUTBOUND_RULE,
        SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22),
        SecurityRule(direction="inbound", protocol="UDP", from_port=51820, to_port=51820),
        SecurityRule(direction="inbound", protocol="ICMP", cidr="10.99.0.0/24"),
    ]
    a_vpc, b_vpc = (
        twin.vpc("vpc-wga", "10.61.0.0/16", "10.61.1.0/24"),
        twin.vpc("vpc-wgb", "10.62.0.0/16", "10.62.1.0/24"),
    )
    a = twin.vm("wg-a", a_vpc, [twin.sg("sg-wga", a_vpc, rules)], key)
    b = twin.vm("wg-b", b_vpc, [twin.sg("sg-wgb", b_vpc, rules)], key)
    pk = key.private_key
    pubs = {}
    for vm in (a, b):
        pubs[vm.iid.name_id] = ssh(
            vm.public_ip,
            pk,
            "umask 077; wg genkey | sudo tee /etc/wireguard/priv >/dev/null; sudo cat /etc/wireguard/priv | wg pubkey",
        ).strip()
    for vm, peer, me, other in ((a, b, "10.99.0.1", "10.99.0.2"), (b, a, "10.99.0.2", "10.99.0.1")):
        conf = (
            f"[Interface]\nAddress = {me}/24\nListenPort = 51820\n"
            "PostUp = wg set %i private-key /etc/wireguard/priv\n\n"
            f"[Peer]\nPublicKey = {pubs[peer.iid.name_id]}\nEndpoint = {peer.public_ip}:51820\n"
            f"AllowedIPs = {other}/32\n"
        )
        ssh(
            vm.public_ip,
            pk,
            f"printf '%s' '{conf}' | sudo tee /etc/wireguard/wg0.conf >/dev/null && "
            "sudo env WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wg-quick up wg0 >/dev/null 2>&1; "
            "sudo wg show wg0 listen-port",
        )
    out = ssh(
        a.public_ip, pk, "ping -c2 -W2 10.99.0.2 >/dev/null && echo overlay-ok; sudo wg show wg0 latest-handshakes"
    )
    assert "overlay-ok" in out


def test_processes_share_a_region_safely(twin: Twin, setup: dict) -> None:
    """Two processes start VMs in the same region at once: all get distinct addresses and NAT."""
    code = textwrap.dedent(
        f"""
        import sys
        from mcinfra.core.handlers import SessionInfo
        from mcinfra.core.models import VMReq
        from mcinfra.drivers.twin.driver import TwinDriver
        c = TwinDriver().connect(SessionInfo(name="x", provider="twin", region={twin.region!r},
                                 options={{"state_dir": {str(twin.state_dir)!r}}}))
        for i in range(3):
            c.vms().start(VMReq(name=f"par-{{sys.argv[1]}}-{{i}}", image="ubuntu-22.04", spec="twin.nano",
                                vpc={setup["vpc"].iid.system_id!r}, subnet={setup["vpc"].subnets[0].iid.system_id!r},
                                security_groups=[{setup["sg"].iid.system_id!r}],
                                keypair={setup["key"].iid.system_id!r}))
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, tag], stderr=subprocess.PIPE, text=True) for tag in "ab"]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
    vms = [v for v in twin.conn.vms().list() if v.iid.name_id.startswith("par-")]
    assert len(vms) == 6
    assert len({v.private_ip for v in vms}) == 6 and len({v.public_ip for v in vms}) == 6
    for v in vms:
        assert ssh(v.public_ip, setup["key"].private_key, "hostname").strip() == v.iid.name_id
        twin.conn.vms().terminate(v.iid)


def test_resume_can_keep_the_public_ip(twin: Twin, setup: dict) -> None:
    from mcinfra.core.handlers import SessionInfo
    from mcinfra.drivers.twin.driver import TwinDriver

    keep = TwinDriver().connect(
        SessionInfo(
            name="keep",
            provider="twin",
            region=twin.region,
            options={"state_dir": str(twin.state_dir), "resume_changes_public_ip": False},
        )
    )
    vm = twin.vm("vm-keep", setup["vpc"], [setup["sg"]], setup["key"])
    keep.vms().suspend(vm.iid)
    keep.vms().resume(vm.iid)
    assert keep.vms().get(vm.iid).public_ip == vm.public_ip
    assert ssh(vm.public_ip, setup["key"].private_key, "echo same").strip() == "same"
    keep.vms().terminate(vm.iid)
