"""Address-space planning: which private IPv4 spaces are free of the VMs' networks.

The seed system compared prefix *lengths* instead of checking overlap, filtered the
192.168 list with the 172.16 table and anchored every candidate at a block base. Here
every decision is a real ``ipaddress`` overlap check: the free space of each RFC 1918
block is the block minus every given CIDR that touches it, and the recommended space
is an aligned block of that free space, taken from the *top* of the block because
cloud and home defaults (10.0.0.0/16, 172.16-31.0.0/16, 192.168.0-1.0/24) sit low.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from mcinfra.core.errors import InvalidRequest

IPv4Network = ipaddress.IPv4Network

#: The three RFC 1918 blocks, in the order a recommendation is searched.
PRIVATE_BLOCKS: tuple[IPv4Network, ...] = (
    IPv4Network("10.0.0.0/8"),
    IPv4Network("172.16.0.0/12"),
    IPv4Network("192.168.0.0/16"),
)
#: The smallest overlay the planner hands out or accepts (a /30 holds 2 peers).
MAX_PREFIX = 30
#: Free blocks reported per RFC 1918 block; the free space of one block can fragment a lot.
MAX_CANDIDATES = 64


@dataclass(frozen=True)
class Recommendation:
    """Free spaces per RFC 1918 block (largest first) and the one recommended."""

    recommended: str | None
    peers: int
    space_10: list[str] = field(default_factory=list)
    space_172: list[str] = field(default_factory=list)
    space_192: list[str] = field(default_factory=list)

    @property
    def candidates(self) -> list[str]:
        return [*self.space_10, *self.space_172, *self.space_192]


def parse_cidrs(cidrs: Iterable[str]) -> list[IPv4Network]:
    """IPv4 networks of ``cidrs`` (host bits allowed); IPv6 entries are ignored."""
    nets: list[IPv4Network] = []
    for raw in cidrs:
        try:
            net = ipaddress.ip_network(str(raw).strip(), strict=False)
        except ValueError as exc:
            raise InvalidRequest(f"{raw!r} is not a valid CIDR", field="cidrs") from exc
        if isinstance(net, IPv4Network):
            nets.append(net)
    return nets


def capacity(space: IPv4Network) -> int:
    """Overlay addresses a space holds: all but the network and broadcast addresses."""
    return max(space.num_addresses - 2, 0)


def prefix_for(peers: int, *, headroom: float = 1.0) -> int:
    """Longest prefix whose space holds ``peers`` plus ``headroom`` x peers more (at least 4)."""
    if peers < 0:
        raise InvalidRequest(f"peers must be >= 0, got {peers}", field="peers")
    wanted = max(peers + math.ceil(peers * headroom), 4) + 2
    prefix = 32 - math.ceil(math.log2(wanted))
    return min(prefix, MAX_PREFIX)


def free_blocks(block: IPv4Network, used: list[IPv4Network]) -> list[IPv4Network]:
    """``block`` minus every network of ``used``, as a minimal list of CIDRs."""
    free = [block]
    for net in used:
        if not net.overlaps(block):
            continue
        nxt: list[IPv4Network] = []
        for piece in free:
            if not piece.overlaps(net):
                nxt.append(piece)
            elif net.supernet_of(piece):
                continue
            else:  # net lies inside piece
                nxt.extend(piece.address_exclude(net))
        free = nxt
    return sorted(ipaddress.collapse_addresses(free), key=lambda n: (n.prefixlen, int(n.network_address)))


def _top_block(free: list[IPv4Network], prefix: int) -> IPv4Network | None:
    fitting = [n for n in free if n.prefixlen <= prefix]
    if not fitting:
        return None
    highest = max(fitting, key=lambda n: int(n.broadcast_address))
    if highest.prefixlen == prefix:
        return highest
    return IPv4Network((int(highest.broadcast_address) + 1 - 2 ** (32 - prefix), prefix))


def recommend_address_space(
    cidrs: Iterable[str], peers: int = 0, *, headroom: float = 1.0
) -> Recommendation:
    """Free private IPv4 spaces given the networks in use and a recommended overlay space.

    ``cidrs``: every VPC/subnet CIDR of the VMs (plus host, docker or pod ranges to keep
    clear). ``peers``: how many VMs join; the recommended space holds them and
    ``headroom`` x as many again. ``recommended`` is None when no block has room.
    """
    used = parse_cidrs(cidrs)
    prefix = prefix_for(peers, headroom=headroom)
    lists: list[list[str]] = []
    recommended: IPv4Network | None = None
    for block in PRIVATE_BLOCKS:
        free = free_blocks(block, used)
        lists.append([str(n) for n in free[:MAX_CANDIDATES]])
        if recommended is None:
            recommended = _top_block(free, prefix)
    return Recommendation(
        recommended=str(recommended) if recommended else None,
        peers=peers,
        space_10=lists[0],
        space_172=lists[1],
        space_192=lists[2],
    )


def check_address_space(space: str, cidrs: Iterable[str] = (), peers: int = 0) -> IPv4Network:
    """The parsed space, or InvalidRequest naming what is wrong (not private, overlap, too small)."""
    try:
        net = ipaddress.ip_network(str(space).strip(), strict=True)
    except ValueError as exc:
        raise InvalidRequest(
            f"address space {space!r} is not a network CIDR (host bits must be 0): {exc}",
            field="address_space",
        ) from exc
    if not isinstance(net, IPv4Network):
        raise InvalidRequest(f"address space {space} is not IPv4", field="address_space")
    if not any(net.subnet_of(b) for b in PRIVATE_BLOCKS):
        raise InvalidRequest(
            f"address space {net} is not inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16",
            field="address_space",
        )
    if net.prefixlen > MAX_PREFIX:
        raise InvalidRequest(f"address space {net} is smaller than a /{MAX_PREFIX}", field="address_space")
    clashes = [str(c) for c in parse_cidrs(cidrs) if c.overlaps(net)]
    if clashes:
        raise InvalidRequest(
            f"address space {net} overlaps {', '.join(sorted(set(clashes)))} used by the VMs' networks",
            field="address_space",
        )
    if capacity(net) < peers:
        raise InvalidRequest(
            f"address space {net} holds {capacity(net)} overlay addresses; {peers} peers need "
            f"a /{prefix_for(peers, headroom=0)} or larger",
            field="address_space",
        )
    return net
