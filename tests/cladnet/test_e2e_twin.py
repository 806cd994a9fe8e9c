"""CLADNet end to end on the twin: two regions whose VPCs share 10.0.0.0/16, five VMs."""

import pytest

from mcinfra import cladnet
from mcinfra.cladnet import remote
from mcinfra.cladnet.deploy import run_sync
from mcinfra.store.cladnet_tables import CLADNetPeerRow
from tests.cladnet.twinlab import missing_requirements, twin_lab

pytestmark = [pytest.mark.root, pytest.mark.slow]

_missing = missing_requirements()
if _missing:
    pytest.skip(_missing, allow_module_level=True)


@pytest.fixture(scope="module")
def lab():
    with twin_lab((3, 2)) as lab:
        yield lab


def sh(lab, vm_ref, script):
    conn, name = vm_ref.split("/")
    vm = lab.infra.connect(conn).vms.get(name)

    async def go():
        s = await remote.open_session(remote.Target(vm_ref, vm.public_ip, vm.ssh_port, vm.vm_user,
                                                    lab.ssh_keys[f"{conn}/{vm.keypair}"]))
        try:
            return await s.run(script)
        finally:
            s.close()

    return run_sync(go())


def private_ip(lab, ref):
    conn, name = ref.split("/")
    return lab.infra.connect(conn).vms.get(name).private_ip


def public_ip(lab, ref):
    conn, name = ref.split("/")
    return lab.infra.connect(conn).vms.get(name).public_ip


def assert_full_mesh(matrix):
    """Every pair answered every echo, each after its tunnel came up within the bounded wait."""
    assert matrix.full_mesh, (matrix.unreachable(), matrix.warmup)
    n = len(matrix.peers)
    assert matrix.warmup is not None and len(matrix.warmup.pairs) == n * (n - 1) // 2, matrix.warmup
    assert all(t is not None and t <= matrix.warmup.limit_s for t in matrix.warmup.pairs.values()), matrix.warmup


def test_full_lifecycle(lab, tmp_path):
    infra, keys, vms = lab.infra, lab.ssh_keys, lab.vms
    assert len(vms) == 5
    rec = cladnet.recommend_for_vms(infra, vms)
    cladnet.create(infra, "mesh", rec.recommended, rule_type="cost-prioritized")

    # one VM suspended: it fails with the reason, the other four are deployed
    infra.connect("tw1").vms.suspend("vm-01")
    events = []
    report = cladnet.deploy(infra, "mesh", vms, ssh_keys=keys, mode="userspace",
                            progress=lambda k, e: events.append((k, e)))
    assert set(report.failed) == {"tw1/vm-01"}, report.failed
    assert "Suspended" in report.failed["tw1/vm-01"]
    assert {p.key for p in report.peers if p.state == "up"} == set(vms) - {"tw1/vm-01"}
    assert ("tw0/vm-00", "up") in events
    # the SGs only open SSH: the WireGuard port is reported closed
    assert report.sg_gaps and all(g.added is None for g in report.sg_gaps)

    # resume; deploy again completes the mesh (and opens the port as asked)
    infra.connect("tw1").vms.resume("vm-01")
    report = cladnet.deploy(infra, "mesh", [], ssh_keys=keys, open_ports=True)
    assert report.ok, report.failed
    assert {g.added for g in report.sg_gaps} == {"sg-01"}
    net = cladnet.get(infra, "mesh")
    assert all(p.state == "up" for p in net.peers)
    first_keys = {p.key: (p.overlay_ip, p.public_key) for p in net.peers}
    assert len({ip for ip, _ in first_keys.values()}) == 5

    # the private key never left the VM; config and key are 0600
    out = sh(lab, "tw0/vm-00", f"stat -c '%a %n' /etc/wireguard/{net.peers[0].interface}.*")
    assert all(line.startswith("600 ") for line in out.strip().splitlines()), out
    conf = sh(lab, "tw0/vm-00", f"cat /etc/wireguard/{net.peers[0].interface}.conf")
    assert "PrivateKey" not in conf

    assert_full_mesh(cladnet.check(infra, "mesh", ssh_keys=keys))

    # cost-prioritized endpoints are really used: same-VPC pairs on private IPs
    status = cladnet.wg_status(infra, "mesh", ssh_keys=keys)
    for src, view in status.items():
        assert set(view) == set(vms) - {src}
        for dst, st in view.items():
            assert st["latest_handshake"] > 0, (src, dst)
            host = st["endpoint"].rsplit(":", 1)[0]
            if src.split("/")[0] == dst.split("/")[0]:
                assert host == private_ip(lab, dst), (src, dst, st)
            else:
                assert host == public_ip(lab, dst), (src, dst, st)

    # idempotent re-run: same addresses, same public keys
    report = cladnet.deploy(infra, "mesh", vms, ssh_keys=keys)
    assert report.ok
    assert {p.key: (p.overlay_ip, p.public_key) for p in report.peers} == first_keys

    # suspend/resume changes the public IP; update pushes to the others only
    before = public_ip(lab, "tw0/vm-02")
    infra.connect("tw0").vms.suspend("vm-02")
    infra.connect("tw0").vms.resume("vm-02")
    assert public_ip(lab, "tw0/vm-02") != before
    report = cladnet.update(infra, "mesh", ssh_keys=keys)
    assert report.ok, report.failed
    # same-VPC peers reach vm-02 on its private IP, so only the other region's configs change
    assert sorted(report.pushed) == ["tw1/vm-00", "tw1/vm-01"]
    assert cladnet.update(infra, "mesh", ssh_keys=keys).pushed == []
    matrix = cladnet.check(infra, "mesh", ssh_keys=keys)
    assert_full_mesh(matrix)
    # ... and vm-02's traffic leaves from its new address (the other region sees it there;
    # a NAT binding of the released address would be black-holed once ARP forgets it)
    status = cladnet.wg_status(infra, "mesh", ssh_keys=keys)
    for src in ("tw1/vm-00", "tw1/vm-01"):
        assert status[src]["tw0/vm-02"]["endpoint"] == f"{public_ip(lab, 'tw0/vm-02')}:51820", status[src]
    matrix.heatmap(str(tmp_path / "rtt.png"))
    assert (tmp_path / "rtt.png").read_bytes()[:4] == b"\x89PNG"

    # a host key that does not match the pin fails that peer only
    with infra.store.session() as s:
        row = s.query(CLADNetPeerRow).filter_by(connection="tw1", vm="vm-00").one()
        saved, row.host_key = row.host_key, _other_host_key()
    report = cladnet.deploy(infra, "mesh", [], ssh_keys=keys)
    assert set(report.failed) == {"tw1/vm-00"} and "host key" in report.failed["tw1/vm-00"]
    cladnet.repin(infra, "mesh", "tw1/vm-00")
    assert cladnet.deploy(infra, "mesh", [], ssh_keys=keys).ok
    with infra.store.session() as s:
        assert s.query(CLADNetPeerRow).filter_by(connection="tw1", vm="vm-00").one().host_key == saved

    # down: interfaces gone, keys kept; deploy brings the same mesh back
    iface = net.peers[0].interface
    assert cladnet.down(infra, "mesh", ssh_keys=keys).ok
    assert all(p.state == "down" for p in cladnet.get(infra, "mesh").peers)
    assert "gone" in sh(lab, "tw0/vm-00", f"ip link show dev {iface} >/dev/null 2>&1 && echo up || echo gone")
    report = cladnet.deploy(infra, "mesh", [], ssh_keys=keys)
    assert report.ok and {p.key: (p.overlay_ip, p.public_key) for p in report.peers} == first_keys
    assert_full_mesh(cladnet.check(infra, "mesh", ssh_keys=keys))

    # delete: interface, key and config removed from every VM, and the net from the store
    assert cladnet.delete(infra, "mesh", ssh_keys=keys).ok
    assert cladnet.list_nets(infra) == []
    for ref in vms:
        out = sh(lab, ref, f"ip link show dev {iface} >/dev/null 2>&1 && echo up; ls /etc/wireguard/")
        assert out.strip() == "", (ref, out)


def test_two_nets_on_the_same_vms_shared_host_names(lab):
    infra, keys = lab.infra, lab.ssh_keys
    two = ["tw0/vm-00", "tw1/vm-00"]
    for name, space, port in (("net-a", "10.201.0.0/24", 51830), ("net-b", "10.202.0.0/24", 51831)):
        cladnet.create(infra, name, space, port=port)
        report = cladnet.deploy(infra, name, two, ssh_keys=keys, shared_host=True, open_ports=True)
        assert report.ok, report.failed
    ifaces = {p.interface for n in ("net-a", "net-b") for p in cladnet.get(infra, n).peers}
    assert len(ifaces) == 4  # one interface name per (net, peer): safe where VMs share /run
    for name in ("net-a", "net-b"):
        assert_full_mesh(cladnet.check(infra, name, ssh_keys=keys))
    # a reboot drops the interface (and the pooled SSH connection): deploy restores the mesh
    infra.connect("tw1").vms.reboot("vm-00")
    for name in ("net-a", "net-b"):
        report = cladnet.deploy(infra, name, [], ssh_keys=keys)
        assert report.ok, report.failed
        # every pair answers again: the rebooted peer's new wireguard-go renews the session the
        # other side still holds (it pings back when that side's echoes do not arrive)
        assert_full_mesh(cladnet.check(infra, name, ssh_keys=keys))
    for name in ("net-a", "net-b"):
        assert cladnet.delete(infra, name, ssh_keys=keys).ok


def _other_host_key() -> str:
    import asyncssh

    return asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode().strip()
