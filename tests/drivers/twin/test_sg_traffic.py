"""Security groups verified by real traffic: CB-Spider's sg-rules-validation matrix.

A server VM (SG under test) and a client VM (everything open) live in two VPCs, so traffic
crosses the twin internet through both routers' 1:1 NAT, as between two cloud hosts. Each case
changes the server's rules and probes TCP 22, TCP 1000, UDP 2000 (echo) and ICMP both ways:
inbound = client -> server public IP, outbound = server -> client public IP. The expected
pass/fail of every case is written out below (from cb-spider.md section 8), and the test
prints the "expected / observed" table before asserting it.
"""

from __future__ import annotations

import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from mcinfra.core.models import DEFAULT_OUTBOUND_RULE, IID, SecurityRule
from mcinfra.drivers.twin import netns
from tests.drivers.twin.conftest import OPEN_RULES, Twin

pytestmark = pytest.mark.root

PROBES = ("TCP22", "TCP1000", "UDP2000", "ICMP")


def rule(direction: str, protocol: str, ports: tuple[int, int] = (-1, -1), cidr: str = "0.0.0.0/0") -> SecurityRule:
    return SecurityRule(direction=direction, protocol=protocol, from_port=ports[0], to_port=ports[1], cidr=cidr)


def four(direction: str) -> list[SecurityRule]:
    return [
        rule(direction, "TCP", (22, 22)),
        rule(direction, "TCP", (1000, 1000)),
        rule(direction, "UDP", (1, 65535)),
        rule(direction, "ICMP"),
    ]


def probe(ns: str, kind: str, target: str) -> bool:
    if kind == "ICMP":
        cmd = ["ping", "-c1", "-W1", target]
    elif kind == "UDP2000":
        # socat waits -t seconds for the echo after its stdin ends
        cmd = ["sh", "-c", f"printf ping | socat -t1 -T1 - UDP4:{target}:2000 | grep -q pong"]
    else:
        cmd = ["nc", "-z", "-w1", target, kind[3:]]
    return netns.ns_exec(ns, *cmd, check=False, timeout=15).returncode == 0


class Matrix:
    def __init__(self, twin: Twin, server: dict, client: dict, sg: IID) -> None:
        self.twin, self.server, self.client, self.sg = twin, server, client, sg
        self.rows: list[str] = []
        self.mismatches: list[str] = []

    def sgs(self):  # type: ignore[no-untyped-def]
        return self.twin.conn.security_groups()

    def add(self, *rules: SecurityRule) -> None:
        self.sgs().add_rules(self.sg, list(rules))

    def remove(self, *rules: SecurityRule) -> None:
        self.sgs().remove_rules(self.sg, list(rules))

    def check(self, case: str, inbound: set[str], outbound: set[str]) -> None:
        jobs = [("in", k, self.client["ns"], self.server["public_ip"]) for k in PROBES]
        jobs += [("out", k, self.server["ns"], self.client["public_ip"]) for k in PROBES]
        with ThreadPoolExecutor(len(jobs)) as ex:
            observed = list(ex.map(lambda j: probe(j[2], j[1], j[3]), jobs))
        cells = []
        for (direction, kind, _, _), got in zip(jobs, observed, strict=True):
            want = kind in (inbound if direction == "in" else outbound)
            mark = "" if want == got else " (X)"
            cells.append(f"{'pass' if want else 'fail'}/{'pass' if got else 'fail'}{mark}")
            if want != got:
                self.mismatches.append(f"{case} {direction} {kind}: expected {want}, observed {got}")
        self.rows.append(f"| {case} | " + " | ".join(cells) + " |")

    def report(self) -> str:
        head = "| case | " + " | ".join(f"in {p}" for p in PROBES) + " | " + " | ".join(f"out {p}" for p in PROBES)
        return "\n".join([head + " |", "|---" * (1 + 2 * len(PROBES)) + "|", *self.rows])


# socat's UDP4-RECVFROM fork server drops a datagram now and then; this one does not
UDP_ECHO = """
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 2000))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(b"pong\\n", peer)
"""

ALL = set(PROBES)
NONE: set[str] = set()


@pytest.fixture(scope="module")
def matrix(twin: Twin) -> Matrix:
    key = twin.key("key-sg")
    vpc_s = twin.vpc("vpc-server", "10.10.0.0/16", "10.10.1.0/24")
    vpc_c = twin.vpc("vpc-client", "10.20.0.0/16", "10.20.1.0/24")
    sg_s = twin.sg("sg-server", vpc_s, OPEN_RULES)
    sg_c = twin.sg("sg-client", vpc_c, OPEN_RULES)
    server = twin.vm("server", vpc_s, [sg_s], key)
    client = twin.vm("client", vpc_c, [sg_c], key)
    vms = twin.conn.vms()
    for vm in (server, client):
        vms.spawn(vm.iid, ["socat", "TCP4-LISTEN:1000,reuseaddr,fork", "SYSTEM:echo ok"])
        vms.spawn(vm.iid, [sys.executable, "-c", UDP_ECHO], host_view=True)
    info = {
        "server": {"ns": server.extra["namespace"], "public_ip": server.public_ip},
        "client": {"ns": client.extra["namespace"], "public_ip": client.public_ip},
    }
    for side in info.values():  # wait for the echo servers
        for _ in range(100):
            listening = netns.ns_exec(side["ns"], "ss", "-Hlntu", check=False).stdout
            if ":1000" in listening and ":2000" in listening:
                break
            time.sleep(0.05)
    return Matrix(twin, info["server"], info["client"], sg_s.iid)


def test_sg_matrix_by_traffic(matrix: Matrix) -> None:
    m = matrix
    client32 = f"{m.client['public_ip']}/32"
    other32 = "203.0.113.7/32"  # TEST-NET-3: only ever a rule, never a target
    in_all = rule("inbound", "ALL")

    # ---- inbound cases
    m.check("in-01 initial (inbound ALL, outbound ALL)", ALL, ALL)
    m.remove(in_all)
    m.check("in-02 remove inbound ALL", NONE, ALL)
    r22, r1000, rudp, ricmp = four("inbound")
    m.add(r22)
    m.check("in-03 add TCP/22", {"TCP22"}, ALL)
    m.add(r1000)
    m.check("in-04 add TCP/1000", {"TCP22", "TCP1000"}, ALL)
    m.add(rudp)
    m.check("in-05 add UDP/1-65535", {"TCP22", "TCP1000", "UDP2000"}, ALL)
    m.add(ricmp)
    m.check("in-06 add ICMP", ALL, ALL)
    m.remove(r22, r1000, rudp, ricmp)
    m.check("in-10 remove the four at once", NONE, ALL)
    m.add(r22, r1000, rudp, ricmp)
    m.check("in-11 add the four at once", ALL, ALL)
    scoped = rule("inbound", "TCP", (1000, 1000), client32)
    m.remove(r1000)
    m.add(scoped)
    m.check("in-20 TCP/1000 from client /32", ALL, ALL)
    m.remove(scoped)
    m.add(rule("inbound", "TCP", (1000, 1000), other32))
    m.check("in-21 TCP/1000 from another /32", ALL - {"TCP1000"}, ALL)
    m.remove(rule("inbound", "TCP", (1000, 1000), other32))
    m.add(rule("inbound", "TCP", (1000, 1000), "::/0"))
    m.check("in-30 TCP/1000 from ::/0 only (IPv6 rule)", ALL - {"TCP1000"}, ALL)
    m.add(rule("inbound", "TCP", (999, 1001)))
    m.check("in-31 TCP/999-1001 range", ALL, ALL)
    m.remove(rule("inbound", "TCP", (1000, 1000), "::/0"), rule("inbound", "TCP", (999, 1001)), r22, rudp, ricmp)
    m.add(in_all)
    m.check("in-99 back to inbound ALL", ALL, ALL)

    # ---- outbound cases (inbound ALL stays; replies to inbound ride on conntrack)
    m.remove(DEFAULT_OUTBOUND_RULE)
    m.check("out-02 remove outbound ALL", ALL, NONE)
    o22, o1000, oudp, oicmp = four("outbound")
    m.add(o22)
    m.check("out-03 add TCP/22", ALL, {"TCP22"})
    m.add(o1000)
    m.check("out-04 add TCP/1000", ALL, {"TCP22", "TCP1000"})
    m.add(oudp)
    m.check("out-05 add UDP/1-65535", ALL, {"TCP22", "TCP1000", "UDP2000"})
    m.add(oicmp)
    m.check("out-06 add ICMP", ALL, ALL)
    m.remove(o22, o1000, oudp, oicmp)
    m.check("out-10 remove the four at once", ALL, NONE)
    m.add(o22, o1000, oudp, oicmp)
    m.check("out-11 add the four at once", ALL, ALL)
    oscoped = rule("outbound", "TCP", (1000, 1000), client32)
    m.remove(o1000)
    m.add(oscoped)
    m.check("out-20 TCP/1000 to client /32", ALL, ALL)
    m.remove(oscoped)
    m.add(rule("outbound", "TCP", (1000, 1000), other32))
    m.check("out-21 TCP/1000 to another /32", ALL, ALL - {"TCP1000"})

    print("\n" + m.report())
    assert not m.mismatches, "\n".join(["traffic differs from the rules:", *m.mismatches, m.report()])


def test_sg_change_reaches_every_vm_using_it(twin: Twin) -> None:
    key = twin.key("key-share")
    vpc = twin.vpc("vpc-share", "10.30.0.0/16", "10.30.1.0/24")
    sg = twin.sg("sg-share", vpc, [DEFAULT_OUTBOUND_RULE])
    vms = [twin.vm(f"share-{i}", vpc, [sg], key) for i in range(2)]
    host_ns_probe = [(v.extra["namespace"], v.public_ip) for v in vms]
    prober = vms[0].extra["namespace"]
    assert not any(probe(prober, "TCP22", ip) for _, ip in host_ns_probe[1:])
    twin.conn.security_groups().add_rules(sg.iid, [rule("inbound", "TCP", (22, 22))])
    # every member now admits SSH; probe from the internet side (the other VM's namespace)
    assert probe(vms[1].extra["namespace"], "TCP22", vms[0].public_ip)
    assert probe(vms[0].extra["namespace"], "TCP22", vms[1].public_ip)
    got = twin.conn.security_groups().get(sg.iid)
    assert set(got.rules) == {DEFAULT_OUTBOUND_RULE, rule("inbound", "TCP", (22, 22))}
