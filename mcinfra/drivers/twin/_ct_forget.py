"""Forget a namespace's IPv4 conntrack entries that involve given addresses.

Runs in the namespace (``ip netns exec <ns> python3 -I -S - ADDR...`` with this file on
stdin), as root; standard library only. Dumps the conntrack table over ctnetlink and
deletes every entry whose original or reply tuple has one of the addresses, so a router's
NAT binding made for an address that was released is not reused by the flows that had it.
Prints the number of entries deleted.
"""

import socket
import struct
import sys

NETLINK_NETFILTER = 12
CT_GET, CT_DELETE = (1 << 8) | 1, (1 << 8) | 2  # NFNL_SUBSYS_CTNETLINK << 8 | msg
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
CTA_TUPLE_ORIG, CTA_TUPLE_REPLY, CTA_TUPLE_IP = 1, 2, 1


def _attrs(data: bytes) -> dict[int, bytes]:
    """type -> raw attribute (header included), nested flag masked off the key."""
    out = {}
    while len(data) >= 4:
        length, kind = struct.unpack("=HH", data[:4])
        if length < 4:
            break
        out[kind & 0x7FFF] = data[:length]
        data = data[(length + 3) & ~3:]
    return out


def _ips(tuple_attr: bytes) -> set[str]:
    ip = _attrs(tuple_attr[4:]).get(CTA_TUPLE_IP, b"")
    return {socket.inet_ntoa(a[4:8]) for a in _attrs(ip[4:]).values() if len(a) >= 8}


def _msg(kind: int, flags: int, seq: int, body: bytes = b"") -> bytes:
    payload = struct.pack("!BBH", socket.AF_INET, 0, 0) + body
    return struct.pack("=IHHII", 16 + len(payload), kind, flags, seq, 0) + payload


def _replies(sock: socket.socket) -> list[tuple[int, bytes]]:
    """Messages until DONE (dump) or the ACK/error (one request)."""
    out = []
    while True:
        data = sock.recv(1 << 20)
        while len(data) >= 16:
            length, kind = struct.unpack("=IH", data[:6])
            out.append((kind, data[16:length]))
            if kind in (NLMSG_DONE, NLMSG_ERROR):
                return out
            data = data[(length + 3) & ~3:]


def main() -> None:
    forget = set(sys.argv[1:])
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    sock.send(_msg(CT_GET, NLM_F_REQUEST | NLM_F_DUMP, 1))
    doomed = []
    for kind, body in _replies(sock):
        if kind >> 8 != 1:  # not a ctnetlink entry (DONE, error)
            continue
        attrs = _attrs(body[4:])
        orig, reply = attrs.get(CTA_TUPLE_ORIG), attrs.get(CTA_TUPLE_REPLY)
        if orig and reply and (_ips(orig) | _ips(reply)) & forget:
            doomed.append(orig)
    deleted = 0
    for seq, orig in enumerate(doomed, start=2):
        sock.send(_msg(CT_DELETE, NLM_F_REQUEST | NLM_F_ACK, seq, orig))
        for kind, body in _replies(sock):
            if kind == NLMSG_ERROR and struct.unpack("=i", body[:4])[0] == 0:
                deleted += 1  # gone meanwhile (ENOENT) is fine too
    print(deleted)


if __name__ == "__main__":
    main()
