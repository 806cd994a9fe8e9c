"""Ping many hosts from one process; runs ON a VM (python3 - ARGS < this file), as root.

One ``ping`` process per destination costs a few forks each: with 50 VMs that is ~10,000
processes for one check. This sends ICMP echoes to every destination from one raw
socket and prints, per destination, the same summary ``ping -q`` prints, so the caller
parses both alike. Standard library only; argv: warm|measure count interval wait ip...
(warm: ``w:<ip>`` = a watched peer, see ``Pinger.warm``).
"""

import contextlib
import os
import select
import socket
import struct
import sys
import time

#: warm: a target is warm after this many answers. The first can ride a session the other
#: side is about to replace (it just restarted), so one answer proves little.
WARM_ANSWERS = 2
#: warm: seconds between echoes to a target that is not warm yet
WARM_TICK = 0.25
#: warm: a watched peer (it pings us) still silent after this many seconds is pinged back
WARM_LATE = 2.0


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


class Pinger:
    """ICMP echoes over one raw socket; ``clock`` and ``wait_readable`` are replaceable (tests)."""

    def __init__(self, sock, ident, clock=time.monotonic, wait_readable=None):
        self.sock = sock
        self.ident = ident & 0xFFFF
        self.clock = clock
        self.wait_readable = wait_readable or (lambda t: bool(select.select([sock], [], [], t)[0]))
        self.sent = {}  # (ip, seq) -> send time
        self.rtts = {}  # ip -> [ms]
        self.asked = set()  # IPs an echo request came from

    def send(self, ip, seq):
        payload = b"cladnet-check" * 4
        header = struct.pack("!BBHHH", 8, 0, 0, self.ident, seq)
        packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), self.ident, seq) + payload
        self.sent[(ip, seq)] = self.clock()
        with contextlib.suppress(OSError):
            self.sock.sendto(packet, (ip, 0))

    def receive(self, until, done):
        """Collect echo replies until ``until`` (clock time) or ``done()``."""
        while not done():
            left = until - self.clock()
            if left <= 0 or not self.wait_readable(left):
                return
            data, (ip, _) = self.sock.recvfrom(4096)
            now = self.clock()
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, seq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if kind == 0 and rid == self.ident and (ip, seq) in self.sent:
                self.rtts.setdefault(ip, []).append((now - self.sent.pop((ip, seq))) * 1000.0)
            elif kind == 8:  # a raw ICMP socket sees the requests the kernel answers, too
                self.asked.add(ip)

    def warm(self, targets, wait, watch=()):
        """Echo every target until it answered ``WARM_ANSWERS`` times, ``wait`` s at most.

        ``watch``: peers that ping us (we are their target). One whose requests have not
        arrived after ``WARM_LATE`` s is pinged back: its side may hold a session we no
        longer have (we restarted), which WireGuard would only renew after 15 s of silence;
        our echo starts a fresh handshake. A healthy pair is thus started from one side only.
        Returns, per target, the seconds it took (the tunnel's handshake included), or None.
        """
        start = self.clock()
        deadline = start + wait
        took = {}

        def answered(ip):
            return len(self.rtts.get(ip, ())) >= WARM_ANSWERS

        def all_warm():
            for ip in (*targets, *watch):
                if ip not in took and answered(ip):
                    took[ip] = self.clock() - start
            return all(ip in took for ip in targets) and all(ip in took or ip in self.asked for ip in watch)

        seq = 0
        while not all_warm() and self.clock() < deadline:
            late = self.clock() - start >= WARM_LATE
            for ip in (*targets, *(w for w in watch if late and w not in self.asked)):
                if ip not in took:
                    self.send(ip, seq)
            seq = (seq + 1) & 0xFFFF
            self.receive(min(deadline, self.clock() + WARM_TICK), all_warm)
        return {ip: took.get(ip) for ip in targets}

    def measure(self, targets, count, interval, wait):
        for i in range(count):
            for ip in targets:
                self.send(ip, i)
            self.receive(self.clock() + interval, lambda: False)
        self.receive(self.clock() + wait, lambda: not self.sent)
        out = []
        for ip in targets:
            got = self.rtts.get(ip, [])
            loss = 100.0 * (count - len(got)) / count
            out.append(f"@@ {ip}\n{count} packets transmitted, {len(got)} received, {loss:.0f}% packet loss")
            if got:
                avg = sum(got) / len(got)
                out.append(f"rtt min/avg/max/mdev = {min(got):.3f}/{avg:.3f}/{max(got):.3f}/0.000 ms")
        return "\n".join(out)


def main():
    mode, count, interval, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    targets = [a for a in sys.argv[5:] if not a.startswith("w:")]
    watch = [a[2:] for a in sys.argv[5:] if a.startswith("w:")]
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    pinger = Pinger(sock, os.getpid())
    if mode == "warm":
        # Unmeasured: brings the tunnels up (handshakes); prints "up <seconds>" or "no answer"
        # per target (watched peers report on their own side).
        took = pinger.warm(targets, wait, watch)
        print("\n".join(f"@@ {ip}\n" + ("no answer" if s is None else f"up {s:.3f}") for ip, s in took.items()))
    else:
        print(pinger.measure(targets, count, interval, wait))


if __name__ == "__main__":
    main()
