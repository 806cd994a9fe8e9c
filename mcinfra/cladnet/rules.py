"""Networking rules: for each peer, every other peer's overlay IP and the endpoint to use.

``basic``: always the other peer's public IP. ``cost-prioritized``: the private IP when
both peers are VMs of the same VPC of the same connection (the VPC's own routing reaches
it and the traffic is not billed as internet egress), otherwise the public IP. The seed
system keyed this on provider-specific subnet/zone rules and fell back to public for
unknown providers; a VPC is one routing domain on every provider, so same VPC is enough.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

from mcinfra.core.errors import InvalidRequest

RuleType = Literal["basic", "cost-prioritized"]
RULE_TYPES: tuple[str, ...] = ("basic", "cost-prioritized")


@dataclass(frozen=True)
class PeerView:
    """What the rules need to know of a peer."""

    key: str  # "<connection>/<vm name>"
    overlay_ip: str
    connection: str
    vpc: str
    public_ip: str | None = None
    private_ip: str | None = None
    public_key: str | None = None


class Rule(NamedTuple):
    """How ``source`` reaches ``peer``: its overlay IP and the underlay endpoint IP chosen.

    ``scope`` is ``intra`` for a private endpoint and ``inter`` for a public one (the seed's
    names); ``endpoint`` is None when the peer has no usable address (it can still reach
    us, and WireGuard learns its endpoint from its first packet).
    """

    source: str
    peer: str
    overlay_ip: str
    endpoint: str | None
    scope: str  # "intra" | "inter"
    public_key: str | None = None


def check_rule_type(rule_type: str) -> str:
    if rule_type not in RULE_TYPES:
        raise InvalidRequest(f"rule type {rule_type!r} is not one of {', '.join(RULE_TYPES)}",
                             field="rule_type")
    return rule_type


def same_vpc(a: PeerView, b: PeerView) -> bool:
    return bool(a.vpc) and a.connection == b.connection and a.vpc == b.vpc


def select(source: PeerView, dest: PeerView, rule_type: str) -> Rule:
    """The endpoint ``source`` uses for ``dest``."""
    if rule_type == "cost-prioritized" and same_vpc(source, dest) and source.private_ip and dest.private_ip:
        endpoint, scope = dest.private_ip, "intra"
    else:
        endpoint, scope = dest.public_ip, "inter"
    return Rule(source.key, dest.key, dest.overlay_ip, endpoint, scope, dest.public_key)


def plan_rules(peers: Sequence[PeerView], rule_type: str) -> dict[str, list[Rule]]:
    """Every peer's rules: one per other peer, in the given peer order.

    A full mesh is N x (N-1) rules; they are built with the garbage collector paused, as
    a million small tuples otherwise trigger repeated full collections (N^3 behaviour).
    """
    check_rule_type(rule_type)
    keys = [p.key for p in peers]
    if len(set(keys)) != len(keys):
        raise InvalidRequest("a peer is listed twice", field="peers")
    cost = rule_type == "cost-prioritized"
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        out: dict[str, list[Rule]] = {}
        for s in peers:
            rs = []
            for d in peers:
                if d is s:
                    continue
                if cost and s.vpc and s.connection == d.connection and s.vpc == d.vpc \
                        and s.private_ip and d.private_ip:
                    rs.append(Rule(s.key, d.key, d.overlay_ip, d.private_ip, "intra", d.public_key))
                else:
                    rs.append(Rule(s.key, d.key, d.overlay_ip, d.public_ip, "inter", d.public_key))
            out[s.key] = rs
        return out
    finally:
        if was_enabled:
            gc.enable()
