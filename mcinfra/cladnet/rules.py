"""Networking rules: for each peer, every other peer's overlay IP and the endpoint to use.

``basic``: always the other peer's public IP. ``cost-prioritized``: the private IP when
both peers are VMs of the same VPC of the same connection (the VPC's own routing reaches
it and the traffic is not billed as internet egress), otherwise the public IP. The seed
system keyed this on provider-specific subnet/zone rules and fell back to public for
unknown providers; a VPC is one routing domain on every provider, so same VPC is enough.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

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


@dataclass(frozen=True)
class Rule:
    """How ``source`` reaches ``peer``: its overlay IP and the underlay endpoint IP chosen.

    ``scope`` is ``intra`` for a private endpoint and ``inter`` for a public one (the seed's
    names); ``endpoint`` is None when the peer has no usable address (it can still reach
    us, and WireGuard learns its endpoint from its first packet).
    """

    source: str
    peer: str
    overlay_ip: str
    endpoint: str | None
    scope: Literal["intra", "inter"]
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
    return Rule(source.key, dest.key, dest.overlay_ip, endpoint, scope, dest.public_key)  # type: ignore[arg-type]


def plan_rules(peers: Sequence[PeerView], rule_type: str) -> dict[str, list[Rule]]:
    """Every peer's rules: one per other peer, in the given peer order."""
    check_rule_type(rule_type)
    keys = [p.key for p in peers]
    if len(set(keys)) != len(keys):
        raise InvalidRequest("a peer is listed twice", field="peers")
    return {s.key: [select(s, d, rule_type) for d in peers if d.key != s.key] for s in peers}
