"""The twin "internet": one namespace with a bridge that every region's routers join.

It is host-wide (shared by all twin regions, like the real internet, so VMs of two twin
regions reach each other's public addresses), created on first use and removed by cleanup
when no region is registered any more. The host joins it through a veth with 198.18.0.1/15,
so programs on the host reach every public address directly.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from mcinfra.drivers.twin import netns
from mcinfra.drivers.twin.state import HOST_PUBLIC_IP, PUBLIC_RANGE, REGISTRY, file_lock

INET_NS = "mctwin-inet"
BRIDGE = "br0"
HOST_LINK = "mctwin0"
INET_LINK = "mctwin1"
ROUTER_NS = re.compile(r"^t[a-z2-7]{4}-r\d+$")


#: The kernel's ARP table is one table for every namespace, capped by init_net's gc_thresh3
#: (1024 by default). Each twin namespace holds a few entries (neighbours plus multicast), so
#: a few hundred VMs fill it and new neighbours fail ("neighbor table overflow"): packets to a
#: fresh VM vanish for many seconds. The twin raises the caps (never lowers them).
ARP_LIMITS = {"gc_thresh1": 4096, "gc_thresh2": 16384, "gc_thresh3": 32768}


def raise_arp_limits() -> None:
    for family in ("ipv4", "ipv6"):
        for key, want in ARP_LIMITS.items():
            path = Path(f"/proc/sys/net/{family}/neigh/default") / key
            try:
                if int(path.read_text()) < want:
                    path.write_text(str(want))
            except (OSError, ValueError):
                continue


def ensure() -> None:
    raise_arp_limits()
    with file_lock(REGISTRY / "registry.lock"):
        if netns.netns_exists(INET_NS) and netns.link_exists(HOST_LINK):
            return
        _teardown()
        try:
            netns.netns_add(INET_NS)
            netns.ip("link", "add", BRIDGE, "type", "bridge", ns=INET_NS)
            netns.ip("link", "set", BRIDGE, "up", ns=INET_NS)
            netns.veth_pair(HOST_LINK, None, INET_LINK, INET_NS)
            netns.ip("link", "set", INET_LINK, "master", BRIDGE, "up", ns=INET_NS)
            netns.ip("addr", "add", f"{HOST_PUBLIC_IP}/{PUBLIC_RANGE.prefixlen}", "dev", HOST_LINK)
            netns.ip("link", "set", HOST_LINK, "up")
        except Exception:
            _teardown()
            raise


def _teardown() -> None:
    netns.link_delete(HOST_LINK)
    netns.netns_delete(INET_NS)


def remove_if_unused() -> bool:
    """Remove the internet when no region is registered; True when it was removed."""
    with file_lock(REGISTRY / "registry.lock"):
        regions = list((REGISTRY / "regions").glob("*.json"))
        if regions:
            return False
        _teardown()
        with contextlib.suppress(OSError):
            (REGISTRY / "regions").rmdir()
    return True


def forget_neighbors(prefix: str) -> None:
    """Drop ARP entries for ``prefix`` on the host and on every router of the internet.

    Public blocks and addresses get reused by later regions; an entry still pointing at a
    deleted router's MAC would blackhole the new owner for several seconds (until the kernel
    gives up on the stale entry), so a region flushes its block when it starts using it.
    """
    netns.run(["ip", "neigh", "flush", "to", prefix, "dev", HOST_LINK], check=False)
    for ns in netns.netns_list():
        if ROUTER_NS.match(ns):
            netns.run(["ip", "-n", ns, "neigh", "flush", "to", prefix], check=False)


def attach(link: str) -> None:
    """Put an inet-side veth end on the bridge and bring it up."""
    netns.ip("link", "set", link, "master", BRIDGE, "up", ns=INET_NS)
