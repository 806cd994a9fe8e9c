"""check's wait before measuring: the on-VM warm-up loop (fake network and clock) and the
parsing/reporting around it. No root, no namespaces."""

import importlib
import importlib.util
import struct
from pathlib import Path

import pytest

from mcinfra.cladnet import remote

check_mod = importlib.import_module("mcinfra.cladnet.check")  # the package re-exports check()
_spec = importlib.util.spec_from_file_location("cladnet_pinger", Path(remote.__file__).parent / "_pinger.py")
pinger = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pinger)


class FakeNet:
    """A raw ICMP socket and a clock: ``up_at[ip]`` is when that peer's tunnel starts to
    answer (its handshake done; None = never), replies take ``rtt`` s. Time passes only
    while the pinger waits."""

    def __init__(self, up_at: dict[str, float | None], rtt: float = 0.001) -> None:
        self.now = 100.0
        self.up_at = {ip: None if t is None else self.now + t for ip, t in up_at.items()}
        self.rtt = rtt
        self.inbox: list[tuple[float, bytes, str]] = []
        self.sends: dict[str, int] = {ip: 0 for ip in up_at}

    def clock(self) -> float:
        return self.now

    def sendto(self, packet: bytes, addr: tuple[str, int]) -> None:
        ip = addr[0]
        self.sends[ip] += 1
        up = self.up_at[ip]
        if up is not None and self.now >= up:
            _, _, _, ident, seq = struct.unpack("!BBHHH", packet[:8])
            reply = b"\x45" + b"\0" * 19 + struct.pack("!BBHHH", 0, 0, 0, ident, seq)
            self.inbox.append((self.now + self.rtt, reply, ip))
            self.inbox.sort()

    def request_from(self, ip: str, after: float) -> None:
        """An echo request from ``ip`` arrives ``after`` s from now (that peer pings us)."""
        request = b"\x45" + b"\0" * 19 + struct.pack("!BBHHH", 8, 0, 0, 7, 0)
        self.inbox.append((self.now + after, request, ip))
        self.inbox.sort()

    def recvfrom(self, size: int) -> tuple[bytes, tuple[str, int]]:
        _, data, ip = self.inbox.pop(0)
        return data, (ip, 0)

    def wait_readable(self, timeout: float) -> bool:
        if self.inbox and self.inbox[0][0] <= self.now + timeout:
            self.now = max(self.now, self.inbox[0][0])
            return True
        self.now += timeout
        return False


def make(net: FakeNet):
    return pinger.Pinger(net, 4242, clock=net.clock, wait_readable=net.wait_readable)


def test_warm_returns_as_soon_as_every_tunnel_answers_twice():
    net = FakeNet({"10.9.0.2": 0.0, "10.9.0.3": 0.4})
    took = make(net).warm(["10.9.0.2", "10.9.0.3"], 12)
    # answered on the 2nd echo (0.25 s tick): the wait ends then, not at the 12 s bound
    assert took["10.9.0.2"] == pytest.approx(0.25, abs=0.01)
    assert 0.4 < took["10.9.0.3"] < 1.0
    assert net.now - 100.0 == pytest.approx(max(took.values()), abs=1e-6)


def test_warm_waits_through_a_lost_handshake_retry():
    # the first initiation lost: WireGuard resends after 5 s (+ jitter); still within the bound
    net = FakeNet({"10.9.0.2": 5.3})
    took = make(net).warm(["10.9.0.2"], 12)
    assert 5.3 <= took["10.9.0.2"] < 6.0


def test_warm_is_bounded_and_reports_the_cold_target():
    net = FakeNet({"10.9.0.2": 0.0, "10.9.0.3": None})
    took = make(net).warm(["10.9.0.2", "10.9.0.3"], 3)
    assert took["10.9.0.3"] is None and took["10.9.0.2"] is not None
    assert net.now - 100.0 == pytest.approx(3, abs=0.01)  # the bound, not more
    # kept sending to the cold one every tick (each echo can start a handshake)
    assert net.sends["10.9.0.3"] >= 3 / pinger.WARM_TICK - 1


def test_a_watched_peer_that_pings_us_is_not_pinged_back():
    # healthy pair: the lower peer's echoes arrive, so only it initiates (no NAT race)
    net = FakeNet({"10.9.0.1": 0.0})
    net.request_from("10.9.0.1", 0.1)
    took = make(net).warm([], 12, watch=["10.9.0.1"])
    assert took == {} and net.sends["10.9.0.1"] == 0
    assert net.now - 100.0 < 0.2  # done when its request came


def test_a_silent_watched_peer_is_pinged_back_after_the_late_delay():
    # we restarted; the lower peer's stale session never reaches us: we renew it ourselves
    net = FakeNet({"10.9.0.1": 0.0, "10.9.0.3": 0.0})
    took = make(net).warm(["10.9.0.3"], 12, watch=["10.9.0.1"])
    assert took["10.9.0.3"] == pytest.approx(0.25, abs=0.01)
    assert net.sends["10.9.0.1"] == 2  # from WARM_LATE on, until it answered twice
    assert pinger.WARM_LATE <= net.now - 100.0 < pinger.WARM_LATE + 0.6


def test_measure_counts_echoes_after_warm():
    net = FakeNet({"10.9.0.2": 0.0, "10.9.0.3": None})
    p = make(net)
    out = p.measure(["10.9.0.2", "10.9.0.3"], 3, 0.2, 2)
    stats = check_mod.parse_ping(out)
    assert (stats["10.9.0.2"].sent, stats["10.9.0.2"].received) == (3, 3)
    assert (stats["10.9.0.3"].sent, stats["10.9.0.3"].received) == (3, 0)


def test_parse_warm_and_handshakes():
    out = "@@ 10.9.0.2\nup 0.251\n@@ 10.9.0.3\nno answer\n@@ 10.9.0.4\nup\n"
    assert check_mod.parse_warm(out) == {"10.9.0.2": 0.251, "10.9.0.3": None, "10.9.0.4": None}
    shakes = check_mod.parse_handshakes("AAA=\t1795703779\nBBB=\t0\n")
    assert shakes == {"AAA=": 1795703779, "BBB=": 0}


def test_warm_up_report():
    w = check_mod.WarmUp(check_mod.WARM_CONDITION, 12.0, 0.8,
                         {("a", "b"): 0.25, ("a", "c"): None}, {("a", "c"): "no WireGuard handshake within 12 s"})
    assert w.cold() == [("a", "c")]
    assert "handshake" in w.waited_for


def test_warm_script_carries_the_bound():
    script = remote.warm_script(["10.9.0.2"], 12, watch=["10.9.0.1"])
    assert "warm 1 0 12 10.9.0.2 w:10.9.0.1" in script
    assert "no answer" in script and "up $((" in script  # the ping fallback reports too


def test_warmup_bound_is_validated():
    from mcinfra.core.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="warmup"):
        check_mod.check(None, "mesh", ssh_keys={}, warmup=-1)
