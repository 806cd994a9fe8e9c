"""Measure the mesh: every peer pings every other peer's overlay IP, all at once.

The result is an RTT matrix (min/avg/max in milliseconds and loss in percent) rendered
as a rich table or a heat-map PNG (matplotlib, imported only when drawing).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from mcinfra.cladnet import remote
from mcinfra.cladnet.deploy import Progress, _Peer, _Run, run_sync
from mcinfra.core.errors import InvalidRequest

_RTT = re.compile(r"= ([\d.]+)/([\d.]+)/([\d.]+)/")
_SENT = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


@dataclass(frozen=True)
class PingStats:
    sent: int
    received: int
    min_ms: float | None = None
    avg_ms: float | None = None
    max_ms: float | None = None
    error: str = ""

    @property
    def loss(self) -> float:
        return 100.0 if not self.sent else 100.0 * (self.sent - self.received) / self.sent


#: What the warm-up of ``check`` waits for, per pair, before anything is measured.
WARM_CONDITION = "WireGuard handshake and 2 echo answers (the lower peer of each pair pings the other)"


@dataclass
class WarmUp:
    """What ``check`` waited for before measuring, and how long.

    ``pairs[(initiator, other)]``: seconds until the pair's tunnel answered (handshake
    included), or None when it did not within ``limit_s``; ``notes`` says, for those, what
    the initiator's WireGuard reported (no handshake, or a handshake but no echo back).
    """

    waited_for: str
    limit_s: float
    seconds: float = 0.0
    pairs: dict[tuple[str, str], float | None] = field(default_factory=dict)
    notes: dict[tuple[str, str], str] = field(default_factory=dict)

    def cold(self) -> list[tuple[str, str]]:
        """The pairs that did not answer within the limit."""
        return [pair for pair, took in self.pairs.items() if took is None]


@dataclass
class RTTMatrix:
    """``cells[(source, destination)]``: what ``source`` measured to ``destination``'s overlay IP."""

    net: str
    peers: list[str]
    cells: dict[tuple[str, str], PingStats] = field(default_factory=dict)
    #: peers that could not run the check, with the reason
    failed: dict[str, str] = field(default_factory=dict)
    #: the wait before measuring (None with ``warmup=0``)
    warmup: WarmUp | None = None

    @property
    def full_mesh(self) -> bool:
        """Every peer reached every other peer with no loss."""
        return not self.failed and all(
            (s, d) in self.cells and self.cells[(s, d)].received == self.cells[(s, d)].sent > 0
            for s in self.peers for d in self.peers if s != d
        )

    def unreachable(self) -> list[tuple[str, str]]:
        return [(s, d) for s in self.peers for d in self.peers
                if s != d and ((s, d) not in self.cells or self.cells[(s, d)].received == 0)]

    def _repr_html_(self) -> str:
        """In a notebook: the matrix as a heat map (avg RTT in ms; '-' lost or not measured)."""
        from mcinfra.core.display import matrix_html

        values = [[None if s == d or (c := self.cells.get((s, d))) is None else c.avg_ms for d in self.peers]
                  for s in self.peers]
        return matrix_html(f"cladnet {self.net}: RTT, row pings column", self.peers, values, "avg ms")

    def __rich__(self) -> Any:
        return self.table()

    def table(self) -> Any:
        from rich.table import Table

        t = Table(title=f"cladnet {self.net}: RTT avg ms (loss %), row pings column")
        t.add_column("from \\ to", style="bold")
        for p in self.peers:
            t.add_column(p, justify="right")
        for s in self.peers:
            row = []
            for d in self.peers:
                c = self.cells.get((s, d))
                if s == d:
                    row.append("-")
                elif c is None:
                    row.append("[red]n/a")
                elif c.avg_ms is None:
                    row.append("[red]lost")
                else:
                    style = "" if c.loss == 0 else "[yellow]"
                    row.append(f"{style}{c.avg_ms:.2f} ({c.loss:.0f}%)")
            t.add_row(s, *row)
        return t

    def heatmap(self, path: str | None = None) -> Any:
        """Draw avg RTT per (source, destination); lost pairs are grey. Saves a PNG when ``path`` is given."""
        import matplotlib

        if path:
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np

        n = len(self.peers)
        data = np.full((n, n), np.nan)
        for i, s in enumerate(self.peers):
            for j, d in enumerate(self.peers):
                c = self.cells.get((s, d))
                if c is not None and c.avg_ms is not None:
                    data[i, j] = c.avg_ms
        fig, ax = plt.subplots(figsize=(max(4, n * 0.5 + 2), max(3, n * 0.5 + 1)))
        cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
        im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap)
        ax.set_xticks(range(n), self.peers, rotation=90, fontsize=7)
        ax.set_yticks(range(n), self.peers, fontsize=7)
        ax.set_xlabel("destination")
        ax.set_ylabel("source")
        ax.set_title(f"cladnet {self.net}: average RTT (ms)")
        fig.colorbar(im, ax=ax)
        fig.tight_layout()
        if path:
            fig.savefig(path, dpi=100)
            plt.close(fig)
        return fig


def parse_ping(output: str) -> dict[str, PingStats]:
    """Blocks of ``@@ <ip>`` + ping -q output -> stats per IP."""
    stats: dict[str, PingStats] = {}
    for block in output.split("@@ ")[1:]:
        ip, _, body = block.partition("\n")
        m = _SENT.search(body)
        if not m:
            last = body.strip().splitlines()[-1] if body.strip() else "no output"
            stats[ip.strip()] = PingStats(0, 0, error=last)
            continue
        r = _RTT.search(body)
        lo, avg, hi = (float(r.group(1)), float(r.group(2)), float(r.group(3))) if r else (None, None, None)
        stats[ip.strip()] = PingStats(int(m.group(1)), int(m.group(2)), lo, avg, hi)
    return stats


def parse_warm(output: str) -> dict[str, float | None]:
    """Blocks of ``@@ <ip>`` + ``up <seconds>`` or ``no answer`` -> seconds per IP (None: cold)."""
    took: dict[str, float | None] = {}
    for block in output.split("@@ ")[1:]:
        ip, _, body = block.partition("\n")
        words = body.split()
        took[ip.strip()] = float(words[1]) if words[:1] == ["up"] and len(words) > 1 else None
    return took


def parse_handshakes(output: str) -> dict[str, int]:
    """``wg show <if> latest-handshakes`` -> unix seconds per peer public key (0: none yet)."""
    out: dict[str, int] = {}
    for line in output.strip().splitlines():
        cols = line.split()
        if len(cols) == 2 and cols[1].isdigit():
            out[cols[0]] = int(cols[1])
    return out


def check(infra: Any, net: str, *, ssh_keys: remote.SSHKeys, count: int = 3, concurrency: int = 16,
          warmup: float = 12.0, progress: Progress | None = None, connect_timeout: float = 15.0) -> RTTMatrix:
    """Ping every ``up`` peer from every other one over the overlay (``count`` echoes each).

    First (unmeasured) each pair's tunnel is brought up from one side and waited for: the
    WireGuard handshake and two echo answers, ``warmup`` s at most (12 s: a lost handshake
    initiation is resent after 5 s, so two resends fit). A pair is measured, and counted
    unreachable, only after that wait; ``matrix.warmup`` reports it.
    """
    if not 1 <= count <= 100:
        raise InvalidRequest(f"count must be within 1..100, got {count}", field="count")
    if not 0 <= warmup <= 120:
        raise InvalidRequest(f"warmup must be within 0..120 s, got {warmup}", field="warmup")
    run = _Run(infra, net, ssh_keys, concurrency=concurrency, mode="auto", progress=progress,
               connect_timeout=connect_timeout)
    peers = [p for p in run.load([], shared_host=False) if p.state == "up" and not p.gone]
    matrix = RTTMatrix(net=net, peers=[p.key for p in peers])
    by_ip = {p.overlay_ip: p.key for p in peers}

    by_pub = {p.public_key: p.key for p in peers if p.public_key}
    order = {p.key: i for i, p in enumerate(peers)}
    wait = WarmUp(WARM_CONDITION, warmup) if warmup else None

    async def warm(p: _Peer) -> None:
        # Only the lower peer of each pair starts the handshake: two peers initiating at once
        # through stateful NAT can lose the conntrack race and wait 5 s for WireGuard's retry.
        # The higher peer watches: a lower one whose echoes do not arrive (it may hold a stale
        # session with us, e.g. we rebooted) is pinged back after 2 s, renewing the handshake.
        targets = [q.overlay_ip for q in peers if order[q.key] > order[p.key]]
        watch = [q.overlay_ip for q in peers if order[q.key] < order[p.key]]
        if wait is None or not (targets or watch):
            return
        sess = await run.session(p)
        out = await sess.run(remote.warm_script(targets, warmup, watch), timeout=30.0 + warmup)
        took = parse_warm(out)
        for ip in targets:
            wait.pairs[(p.key, by_ip[ip])] = took.get(ip)
        cold = {by_ip[ip] for ip in targets if took.get(ip) is None}
        if cold:  # say why: no handshake at all, or a handshake but no echo back
            shakes = parse_handshakes(await sess.run(remote.handshakes_script(p.interface)))
            for pub, ts in shakes.items():
                if by_pub.get(pub) in cold:
                    wait.notes[(p.key, by_pub[pub])] = (
                        f"WireGuard handshake done, no echo answered within {warmup:g} s" if ts
                        else f"no WireGuard handshake within {warmup:g} s")

    async def measure(p: _Peer) -> None:
        targets = [q.overlay_ip for q in peers if q is not p]
        if not targets:
            return
        sess = await run.session(p)
        out = await sess.run(remote.ping_script(targets, count), timeout=30.0 + 2 * count)
        for ip, st in parse_ping(out).items():
            if ip in by_ip:
                pair = (p.key, by_ip[ip])
                note = (wait.notes.get(pair) or wait.notes.get(pair[::-1])) if wait else None
                matrix.cells[pair] = replace(st, error=note) if note and not st.received else st

    async def all_() -> None:
        try:
            live = run.reachable(peers)
            if wait is not None:
                started = time.monotonic()
                await run.each(live, warm, "warm")
                wait.seconds = time.monotonic() - started
            await run.each([p for p in live if not p.fail], measure, "checked")
        finally:
            await run.close()

    run_sync(all_())
    matrix.failed = {p.key: p.fail for p in peers if p.fail}
    matrix.warmup = wait
    return matrix


def wg_status(infra: Any, net: str, *, ssh_keys: remote.SSHKeys, concurrency: int = 16,
              connect_timeout: float = 15.0) -> dict[str, dict[str, dict[str, Any]]]:
    """What each VM's WireGuard reports (``wg show dump``): per peer, per other peer,
    the endpoint in use and the latest handshake (unix seconds, 0 = none)."""
    run = _Run(infra, net, ssh_keys, concurrency=concurrency, mode="auto", progress=None,
               connect_timeout=connect_timeout)
    peers = [p for p in run.load([], shared_host=False) if not p.gone]
    by_pub = {p.public_key: p.key for p in peers if p.public_key}
    result: dict[str, dict[str, dict[str, Any]]] = {}

    async def one(p: _Peer) -> None:
        sess = await run.session(p)
        out = await sess.run(remote.dump_script(p.interface))
        view: dict[str, dict[str, Any]] = {}
        for line in out.strip().splitlines()[1:]:
            cols = line.split("\t")
            if len(cols) >= 8:
                endpoint = None if cols[2] == "(none)" else cols[2]
                view[by_pub.get(cols[0], cols[0])] = {
                    "endpoint": endpoint, "latest_handshake": int(cols[4]),
                    "rx_bytes": int(cols[5]), "tx_bytes": int(cols[6]),
                }
        result[p.key] = view

    async def all_() -> None:
        try:
            await run.each(run.reachable(peers), one, "status")
        finally:
            await run.close()

    run_sync(all_())
    return result
