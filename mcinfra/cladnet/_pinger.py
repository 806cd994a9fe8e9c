"""Ping many hosts from one process; runs ON a VM (python3 - ARGS < this file), as root.

One ``ping`` process per destination costs a few forks each: with 50 VMs that is ~10,000
processes for one check. This sends ICMP echoes to every destination from one raw
socket and prints, per destination, the same summary ``ping -q`` prints, so the caller
parses both alike. Standard library only; argv: warm|measure count interval wait ip...
"""

import contextlib
import os
import select
import socket
import struct
import sys
import time


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def main() -> None:
    mode, count, interval, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    targets = sys.argv[5:]
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    ident = os.getpid() & 0xFFFF
    sent: dict[tuple[str, int], float] = {}
    rtts: dict[str, list[float]] = {ip: [] for ip in targets}

    def send(ip: str, seq: int) -> None:
        payload = b"cladnet-check" * 4
        header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
        sent[(ip, seq)] = time.monotonic()
        with contextlib.suppress(OSError):
            sock.sendto(packet, (ip, 0))

    def receive(until: float, done: object) -> None:
        while not done():  # type: ignore[operator]
            left = until - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                return
            data, (ip, _) = sock.recvfrom(4096)
            now = time.monotonic()
            ihl = (data[0] & 0x0F) * 4
            kind, _, _, rid, seq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if kind == 0 and rid == ident and (ip, seq) in sent:
                rtts[ip].append((now - sent.pop((ip, seq))) * 1000.0)

    if mode == "warm":
        # Unmeasured: brings tunnels up (handshakes). A target is warm after two answers: the
        # first can ride a session the other side is about to replace (it just restarted).
        deadline = time.monotonic() + wait
        seq = 0

        def warm() -> bool:
            return all(len(rtts[ip]) >= 2 for ip in targets)

        while time.monotonic() < deadline and not warm():
            for ip in targets:
                if len(rtts[ip]) < 2:
                    send(ip, seq)
            seq += 1
            receive(min(deadline, time.monotonic() + 0.25), warm)
        print("\n".join(f"@@ {ip}\n{'up' if len(rtts[ip]) >= 2 else 'no answer'}" for ip in targets))
        return
    for i in range(count):
        for ip in targets:
            send(ip, i)
        receive(time.monotonic() + interval, lambda: False)
    receive(time.monotonic() + wait, lambda: not sent)
    out = []
    for ip in targets:
        got = rtts[ip]
        loss = 100.0 * (count - len(got)) / count
        out.append(f"@@ {ip}\n{count} packets transmitted, {len(got)} received, {loss:.0f}% packet loss")
        if got:
            avg = sum(got) / len(got)
            out.append(f"rtt min/avg/max/mdev = {min(got):.3f}/{avg:.3f}/{max(got):.3f}/0.000 ms")
    print("\n".join(out))


main()
