"""Twin NLB: requests spread round-robin over the VM group; a suspended VM and a VM whose
service stopped (found by the health check) are skipped; INTERNAL NLBs serve the VPC."""

from __future__ import annotations

import socket
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from mcinfra.core.models import HealthChecker, Listener, NLBReq, SecurityRule, VMGroup, VMStatus
from mcinfra.drivers.twin import internet, netns
from tests.drivers.twin.conftest import OPEN_RULES, Twin

pytestmark = pytest.mark.root

# answers every connection with its VM's name, like a one-line web server
HTTP_SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(64)
while True:
    c, _ = s.accept()
    try:
        c.recv(1024)
        c.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\n" + sys.argv[1].encode())
    finally:
        c.close()
"""


def fetch(ip: str, port: int = 80) -> str:
    with socket.create_connection((ip, port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(1024):
            data += chunk
    return data.decode().split("\r\n\r\n", 1)[-1]


def spread(ip: str, n: int) -> Counter[str]:
    return Counter(fetch(ip) for _ in range(n))


def wait_listening(ns: str, port: int) -> None:
    for _ in range(200):
        if f":{port} " in netns.ns_exec(ns, "ss", "-Hltn", check=False).stdout:
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port} in {ns}")


@pytest.fixture(scope="module")
def web(twin: Twin) -> dict:
    key = twin.key("key-web")
    vpc = twin.vpc("vpc-web", "10.40.0.0/16", "10.40.1.0/24")
    sg = twin.sg("sg-web", vpc, OPEN_RULES)
    vms = [twin.vm(f"web-{i}", vpc, [sg], key) for i in range(3)]
    for vm in vms:
        twin.conn.vms().spawn(vm.iid, [sys.executable, "-c", HTTP_SERVER, vm.iid.name_id], host_view=True)
    for vm in vms:
        wait_listening(vm.extra["namespace"], 80)
    return {"vpc": vpc, "vms": vms, "sg": sg, "key": key}


def nlb_req(name: str, web: dict, type_: str = "PUBLIC") -> NLBReq:
    return NLBReq(
        name=name,
        vpc=web["vpc"].iid.system_id,
        type=type_,  # type: ignore[arg-type]
        listener=Listener(protocol="TCP", port=80),
        vm_group=VMGroup(protocol="TCP", port=80, vms=[v.iid.system_id for v in web["vms"]]),
        health_checker=HealthChecker(protocol="TCP", port=80, interval=10, timeout=10, threshold=3),
    )


def kill_server(vm_ns: str) -> None:
    """Stop the web server inside one VM only (found through the VM's cgroup, not by name)."""
    for pid in netns.cgroup_pids(vm_ns):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b's.bind(("0.0.0.0", 80))' in cmdline:
            netns.kill_pids([pid])


def test_public_nlb_round_robin_skips_suspended_and_unhealthy(twin: Twin, web: dict) -> None:
    nlbs, vms = twin.conn.nlbs(), twin.conn.vms()
    lb = nlbs.create(nlb_req("nlb-web", web))
    ip = lb.listener.ip
    assert ip and ip.startswith("198.1")
    names = [v.iid.name_id for v in web["vms"]]

    assert spread(ip, 9) == Counter({n: 3 for n in names})
    health = nlbs.health(lb.iid)
    assert sorted(health.healthy) == sorted(v.iid.system_id for v in web["vms"]) and not health.unhealthy

    # a suspended VM leaves the rotation at once, and comes back on resume
    vms.suspend(web["vms"][1].iid)
    assert vms.status(web["vms"][1].iid) == VMStatus.SUSPENDED
    assert set(spread(ip, 8)) == {names[0], names[2]}
    assert web["vms"][1].iid.system_id in nlbs.health(lb.iid).unhealthy
    vms.resume(web["vms"][1].iid)
    assert set(spread(ip, 9)) == set(names)

    # a VM whose service stopped is found by the health check and skipped
    kill_server(web["vms"][2].extra["namespace"])
    health = nlbs.health(lb.iid)
    assert health.unhealthy == [web["vms"][2].iid.system_id]
    assert set(spread(ip, 8)) == {names[0], names[1]}

    # removing a VM from the group, then adding it back
    group = nlbs.remove_vms(lb.iid, [web["vms"][0].iid.system_id])
    assert web["vms"][0].iid.system_id not in group.vms
    assert set(spread(ip, 4)) == {names[1]}
    nlbs.add_vms(lb.iid, [web["vms"][0].iid.system_id])
    assert set(spread(ip, 6)) == {names[0], names[1]}

    # listener port change
    nlbs.change_listener(lb.iid, Listener(protocol="TCP", port=8080))
    assert set(Counter(fetch(ip, 8080) for _ in range(4))) == {names[0], names[1]}
    with pytest.raises(OSError):
        fetch(ip, 80)
    nlbs.delete(lb.iid)
    assert lb.extra["namespace"] not in netns.netns_list()


def test_internal_nlb_serves_the_vpc(twin: Twin, web: dict) -> None:
    nlbs = twin.conn.nlbs()
    # restart the web server the previous test stopped
    twin.conn.vms().spawn(
        web["vms"][2].iid, [sys.executable, "-c", HTTP_SERVER, web["vms"][2].iid.name_id], host_view=True
    )
    wait_listening(web["vms"][2].extra["namespace"], 80)
    lb = nlbs.create(nlb_req("nlb-int", web, "INTERNAL"))
    assert lb.type == "INTERNAL" and lb.listener.ip.startswith("100.64.")
    client = web["vms"][0].extra["namespace"]
    code = f"import socket\nfor _ in range(6):\n s=socket.create_connection(({lb.listener.ip!r},80),timeout=5)\n"
    code += " s.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n'); print(s.recv(200).split(b'\\r\\n\\r\\n')[-1].decode())"
    out = netns.ns_exec(client, sys.executable, "-c", code).stdout.split()
    assert set(out) == {v.iid.name_id for v in web["vms"]}
    # not reachable from the twin internet (probed from inside it, so nothing leaves the host)
    probe = netns.ns_exec(internet.INET_NS, "nc", "-z", "-w1", lb.listener.ip, "80", check=False)
    assert probe.returncode != 0
    nlbs.delete(lb.iid)


def test_nlb_targets_need_sg_admission(twin: Twin, web: dict) -> None:
    """Targets see the NLB's address: a group that admits only SSH keeps the NLB out."""
    key = web["key"]
    sg = twin.sg(
        "sg-ssh-only",
        web["vpc"],
        [SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)],
    )
    vm = twin.vm("web-closed", web["vpc"], [sg], key)
    twin.conn.vms().spawn(vm.iid, [sys.executable, "-c", HTTP_SERVER, "closed"], host_view=True)
    wait_listening(vm.extra["namespace"], 80)
    req = nlb_req("nlb-closed", {"vpc": web["vpc"], "vms": [vm]})
    lb = twin.conn.nlbs().create(req)
    assert twin.conn.nlbs().health(lb.iid).unhealthy == [vm.iid.system_id]
    twin.conn.nlbs().delete(lb.iid)
