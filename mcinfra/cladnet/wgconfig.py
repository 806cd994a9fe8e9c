"""WireGuard configs in wg-quick format, without any private key.

The private key stays in a 0600 file on the VM; the config loads it with ``PostUp = wg
set %i private-key <file>`` (for ``wg-quick up``), and the deployer builds the
``wg syncconf`` input on the VM itself by stripping the wg-quick-only lines and adding
the key from that file, so the key never travels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from mcinfra.cladnet.rules import Rule

#: Lines that only wg-quick understands; ``wg setconf/syncconf`` rejects them.
WG_QUICK_ONLY = ("Address", "DNS", "MTU", "Table", "PreUp", "PostUp", "PreDown", "PostDown", "SaveConfig")


@dataclass(frozen=True)
class InterfaceSpec:
    name: str
    address: str  # overlay IP with the space's prefix, e.g. 10.255.255.1/24
    port: int
    mtu: int
    key_path: str


def render(iface: InterfaceSpec, rules: Sequence[Rule], *, keepalive: int | None = None) -> str:
    """The wg-quick config of one peer. Rules without a public key yet are left out."""
    lines = [
        "# managed by mcinfra cladnet; re-deploy rather than edit",
        "[Interface]",
        f"Address = {iface.address}",
        f"ListenPort = {iface.port}",
        f"MTU = {iface.mtu}",
        f"PostUp = wg set %i private-key {iface.key_path}",
    ]
    for rule in rules:
        if not rule.public_key:
            continue
        lines += ["", f"# {rule.peer} ({rule.scope})", "[Peer]", f"PublicKey = {rule.public_key}",
                  f"AllowedIPs = {rule.overlay_ip}/32"]
        if rule.endpoint:
            lines.append(f"Endpoint = {_host(rule.endpoint)}:{iface.port}")
        if keepalive:
            lines.append(f"PersistentKeepalive = {keepalive}")
    return "\n".join(lines) + "\n"


def strip(text: str) -> str:
    """What ``wg-quick strip`` gives: the config without wg-quick-only lines."""
    out = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if "=" in line and key in WG_QUICK_ONLY:
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _host(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip
