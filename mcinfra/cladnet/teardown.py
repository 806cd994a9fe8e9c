"""Take a CLADNet down on its VMs, or delete it from the VMs and the store."""

from __future__ import annotations

from typing import Any

from mcinfra.cladnet import remote, state
from mcinfra.cladnet.deploy import DeployReport, Progress, _Peer, _Run, run_sync


async def _down_all(run: _Run, peers: list[_Peer], purge: bool) -> None:
    async def one(p: _Peer) -> None:
        sess = await run.session(p)
        await sess.run(remote.down_script(p.interface, purge=purge))

    try:
        await run.each(run.reachable(peers), one, "deleted" if purge else "down")
    finally:
        await run.close()


def _teardown(infra: Any, net: str, *, purge: bool, ssh_keys: remote.SSHKeys, concurrency: int,
              progress: Progress | None, connect_timeout: float, force: bool) -> DeployReport:
    run = _Run(infra, net, ssh_keys, concurrency=concurrency, mode="auto", progress=progress,
               connect_timeout=connect_timeout)
    peers = run.load([], shared_host=False)
    run_sync(_down_all(run, peers, purge))
    report = DeployReport(net=net, bytes_sent=run.bytes_sent)
    with infra.store.session() as s:
        row = state.load(s, net)
        rows = {r.id: r for r in row.peers}
        for p in peers:
            r = rows[p.row_id]
            if p.fail:
                report.failed[p.key] = p.fail
                r.state, r.reason = "failed", p.fail
            else:
                r.state, r.reason, r.config_digest = "down", p.gone or "taken down", ""
        if purge and (force or not report.failed):
            s.delete(row)
        else:
            s.flush()
            report.peers = [state.peer_model(r) for r in row.peers]
    return report


def down(infra: Any, net: str, *, ssh_keys: remote.SSHKeys, concurrency: int = 16,
         progress: Progress | None = None, connect_timeout: float = 15.0) -> DeployReport:
    """Remove the interface from every VM; keys, configs and addresses stay (``deploy`` restores it)."""
    return _teardown(infra, net, purge=False, ssh_keys=ssh_keys, concurrency=concurrency,
                     progress=progress, connect_timeout=connect_timeout, force=False)


def delete(infra: Any, net: str, *, ssh_keys: remote.SSHKeys, concurrency: int = 16,
           progress: Progress | None = None, connect_timeout: float = 15.0,
           force: bool = False) -> DeployReport:
    """Remove the interface, key and config from every VM, then the net from the store.

    When a VM cannot be cleaned the net stays in the store (its peers marked failed) so
    that ``delete`` can be re-run; ``force=True`` forgets it anyway.
    """
    return _teardown(infra, net, purge=True, ssh_keys=ssh_keys, concurrency=concurrency,
                     progress=progress, connect_timeout=connect_timeout, force=force)
