"""Measure the mesh: every peer pings every other peer's overlay IP, all at once.

The result is an RTT matrix (min/avg/max in milliseconds and loss in percent) rendered
as a rich table or a heat-map PNG (matplotlib, imported only when drawing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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


@dataclass
class RTTMatrix:
    """``cells[(source, destination)]``: what ``source`` measured to ``destination``'s overlay IP."""

    net: str
    peers: list[str]
    cells: dict[tuple[str, str], PingStats] = field(default_factory=dict)
    #: peers that could not run the check, with the reason
    failed: dict[str, str] = field(default_factory=dict)

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


def check(infra: Any, net: str, *, ssh_keys: remote.SSHKeys, count: int = 3, concurrency: int = 16,
          warmup: int = 6, progress: Progress | None = None, connect_timeout: float = 15.0) -> RTTMatrix:
    """Ping every ``up`` peer from every other one over the overlay (``count`` echoes each).

    First (unmeasured, ``warmup`` s at most) each pair's handshake is started from one side.
    """
    if not 1 <= count <= 100:
        raise InvalidRequest(f"count must be within 1..100, got {count}", field="count")
    run = _Run(infra, net, ssh_keys, concurrency=concurrency, mode="auto", progress=progress,
               connect_timeout=connect_timeout)
    peers = [p for p in run.load([], shared_host=False) if p.state == "up" and not p.gone]
    matrix = RTTMatrix(net=net, peers=[p.key for p in peers])
    by_ip = {p.overlay_ip: p.key for p in peers}

    order = {p.key: i for i, p in enumerate(peers)}

    async def warm(p: _Peer) -> None:
        # Only the lower peer of each pair starts the handshake: two peers initiating at once
        # through stateful NAT can lose the conntrack race and wait 5 s for WireGuard's retry.
        targets = [q.overlay_ip for q in peers if order[q.key] > order[p.key]]
        if targets:
            sess = await run.session(p)
            await sess.run(remote.warm_script(targets, warmup), timeout=30.0 + warmup)

    async def measure(p: _Peer) -> None:
        targets = [q.overlay_ip for q in peers if q is not p]
        if not targets:
            return
        sess = await run.session(p)
        out = await sess.run(remote.ping_script(targets, count), timeout=30.0 + 2 * count)
        for ip, st in parse_ping(out).items():
            if ip in by_ip:
                matrix.cells[(p.key, by_ip[ip])] = st

    async def all_() -> None:
        try:
            live = run.reachable(peers)
            if warmup:
                await run.each(live, warm, "warm")
            await run.each([p for p in live if not p.fail], measure, "checked")
        finally:
            await run.close()

    run_sync(all_())
    matrix.failed = {p.key: p.fail for p in peers if p.fail}
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
