"""Overlay IP allocation: in order from the space, never reused.

The seed system derived the next address from the *count* of peers, so a removed peer
left a hole that the next join would collide with. Here the CLADNet keeps a high-water
mark (the index of the next address to hand out); it only ever grows, so an address
once given is never given to another VM, and a VM keeps its address for its life
because the peer row keeps it.
"""

from __future__ import annotations

import ipaddress

from mcinfra.cladnet.planner import capacity
from mcinfra.core.errors import InvalidRequest


class AddressSpaceFull(InvalidRequest):
    """Every address of the space has been handed out (addresses are never reused)."""


def address_at(space: ipaddress.IPv4Network, index: int) -> ipaddress.IPv4Address:
    """The ``index``-th overlay address (0-based): the network address is skipped."""
    if not 0 <= index < capacity(space):
        raise AddressSpaceFull(
            f"address space {space} is full: it holds {capacity(space)} overlay addresses "
            "and addresses are never reused"
        )
    return space.network_address + 1 + index


class Allocator:
    """Hands out addresses from ``space`` starting at ``next_index`` (the high-water mark)."""

    def __init__(self, space: str | ipaddress.IPv4Network, next_index: int = 0) -> None:
        self.space = ipaddress.IPv4Network(space)
        if next_index < 0:
            raise InvalidRequest(f"next_index must be >= 0, got {next_index}")
        self.next_index = next_index

    @property
    def remaining(self) -> int:
        return max(capacity(self.space) - self.next_index, 0)

    def allocate(self) -> str:
        ip = address_at(self.space, self.next_index)
        self.next_index += 1
        return str(ip)

    def interface_address(self, ip: str) -> str:
        """``ip`` with the space's prefix, as a WireGuard interface Address."""
        return f"{ip}/{self.space.prefixlen}"
