"""``mcinfra cladnet ...``: plan, deploy, check and keep a WireGuard overlay current.

SSH private keys are given per key pair: ``--ssh-key <connection>/<key pair>=<pem file>``
(repeatable); the key pair's private key is shown only once, when it is created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="CLADNet: a WireGuard full-mesh overlay over VMs of any connections.",
                  no_args_is_help=True)
console = Console()
err = Console(stderr=True)

SSHKeyOpt = Annotated[list[str], typer.Option(
    "--ssh-key", "-k", help="<connection>/<key pair>=<private key file> (repeatable)")]
SpaceOpt = Annotated[str | None, typer.Option("--space", "-s", help="overlay CIDR (default: recommended)")]
ConcOpt = Annotated[int, typer.Option("--concurrency", "-j", help="VMs worked on at once")]


def _infra() -> Any:
    """The Infra of this command line: the root's ``--db`` (or $MCINFRA_DB, or the embedded store)."""
    from mcinfra.cli import context

    return context.infra()


@contextmanager
def _errors() -> Iterator[None]:
    from mcinfra.cli.context import exit_code
    from mcinfra.errors import McInfraError

    try:
        yield
    except McInfraError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exit_code(exc)) from None


def _keys(specs: list[str]) -> dict[str, str]:
    keys: dict[str, str] = {}
    for spec in specs:
        ref, sep, path = spec.partition("=")
        if not sep or "/" not in ref:
            err.print(f"[red]error:[/red] --ssh-key {spec!r} is not <connection>/<key pair>=<file>")
            raise typer.Exit(2)
        try:
            keys[ref] = Path(path).expanduser().read_text()
        except OSError as exc:
            err.print(f"[red]error:[/red] cannot read SSH key file {path}: {exc.strerror}")
            raise typer.Exit(2) from None
    return keys


def _report(report: Any) -> None:
    for key, why in sorted(report.failed.items()):
        console.print(f"[red]failed[/red] {key}: {why}")
    for gap in report.sg_gaps:
        what = f"added to {gap.added}" if gap.added else "not open"
        if gap.error:
            what = f"could not check/add: {gap.error}"
        console.print(f"[yellow]security group[/yellow] {gap.connection}/{gap.vm} "
                      f"({', '.join(gap.security_groups) or 'no SG'}): UDP port {what} "
                      f"for {', '.join(gap.missing_sources) or '-'}")
    up = sum(1 for p in report.peers if p.state == "up")
    console.print(f"{up}/{len(report.peers)} peers up; pushed to {len(report.pushed)}; "
                  f"{report.bytes_sent} bytes sent in {report.seconds:.2f} s")
    if report.failed:
        raise typer.Exit(1)


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[str, str], None]]:
    from mcinfra.core.display import rich_bar

    with rich_bar(label, total, console) as step:
        yield lambda key, event: step(f"{key}: {event}", True)


@app.command()
def recommend(
    vm: Annotated[list[str], typer.Option("--vm", help="<connection>/<vm> whose VPC CIDRs to avoid")] = [],  # noqa: B006
    cidr: Annotated[list[str], typer.Option("--cidr", help="another CIDR to avoid")] = [],  # noqa: B006
    peers: Annotated[int | None, typer.Option(help="peers to size for (default: number of --vm)")] = None,
) -> None:
    """Free private IPv4 spaces and the recommended overlay address space."""
    from mcinfra import cladnet

    with _errors():
        if vm:
            rec = cladnet.recommend_for_vms(_infra(), vm, extra_cidrs=cidr, peers=peers)
        else:
            rec = cladnet.recommend_address_space(cidr, peers=peers or 0)
    t = Table(title="free private IPv4 space")
    t.add_column("block")
    t.add_column("free CIDRs")
    for block, spaces in (("10.0.0.0/8", rec.space_10), ("172.16.0.0/12", rec.space_172),
                          ("192.168.0.0/16", rec.space_192)):
        t.add_row(block, ", ".join(spaces) or "[red]none")
    console.print(t)
    console.print(f"recommended for {rec.peers} peers: [bold]{rec.recommended or 'none'}[/bold]")


@app.command()
def create(
    name: str,
    space: SpaceOpt = None,
    vm: Annotated[list[str], typer.Option("--vm", help="VMs whose VPC CIDRs the space must avoid")] = [],  # noqa: B006
    rule_type: Annotated[str, typer.Option(help="basic | cost-prioritized")] = "basic",
    port: int = 51820,
    mtu: int = 1420,
    description: str = "",
) -> None:
    """Store a new CLADNet (no VM is touched)."""
    from mcinfra import cladnet

    with _errors():
        infra = _infra()
        avoid = cladnet.vm_cidrs(infra, vm) if vm else []
        if space is None:
            space = cladnet.recommend_address_space(avoid, peers=max(len(vm), 8)).recommended
            if space is None:
                err.print("[red]error:[/red] no free private address space")
                raise typer.Exit(3)
        net = cladnet.create(infra, name, space, description=description, rule_type=rule_type,
                             port=port, mtu=mtu, avoid=avoid)
    console.print(f"cladnet {net.name}: {net.address_space}, {net.rule_type}, UDP {net.port}, MTU {net.mtu}")


@app.command()
def deploy(
    name: str,
    vms: Annotated[list[str] | None, typer.Argument(help="<connection>/<vm> to join")] = None,
    ssh_key: SSHKeyOpt = [],  # noqa: B006
    concurrency: ConcOpt = 16,
    mode: Annotated[str, typer.Option(help="auto | kernel | userspace (wireguard-go)")] = "auto",
    open_ports: Annotated[bool, typer.Option(help="add the UDP rule to SGs that lack it")] = False,
    shared_host: Annotated[bool, typer.Option(help="VMs share one kernel/filesystem")] = False,
) -> None:
    """Join VMs and (re)configure every peer; failed peers are retried."""
    from mcinfra import cladnet

    keys = _keys(ssh_key)
    with _errors():
        infra = _infra()
        known = {p.key for p in cladnet.get(infra, name).peers}
        total = 2 * len(known | {v if isinstance(v, str) else "/".join(v) for v in (vms or [])})
        with _progress("deploy", total) as step:
            report = cladnet.deploy(infra, name, vms or [], ssh_keys=keys, concurrency=concurrency, mode=mode,
                                    open_ports=open_ports, shared_host=shared_host, progress=step)
    _report(report)


@app.command()
def update(name: str, ssh_key: SSHKeyOpt = [], concurrency: ConcOpt = 16,  # noqa: B006
           open_ports: bool = False) -> None:
    """Re-read the VMs' IPs and push only the configs that changed."""
    from mcinfra import cladnet

    keys = _keys(ssh_key)
    with _errors():
        report = cladnet.update(_infra(), name, ssh_keys=keys, concurrency=concurrency, open_ports=open_ports)
    _report(report)


@app.command()
def check(
    name: str,
    ssh_key: SSHKeyOpt = [],  # noqa: B006
    count: int = 3,
    concurrency: ConcOpt = 16,
    warmup: Annotated[float, typer.Option(help="seconds at most to wait for each pair's handshake")] = 12.0,
    png: Annotated[Path | None, typer.Option(help="write the RTT heat map here")] = None,
) -> None:
    """Ping every peer from every other over the overlay: the RTT matrix."""
    from mcinfra import cladnet

    keys = _keys(ssh_key)
    with _errors():
        matrix = cladnet.check(_infra(), name, ssh_keys=keys, count=count, concurrency=concurrency,
                               warmup=warmup)
    console.print(matrix.table())
    if matrix.warmup:
        w = matrix.warmup
        console.print(f"waited {w.seconds:.1f} s (at most {w.limit_s:g} s per pair) for: {w.waited_for}")
        for (src, dst), why in w.notes.items():
            console.print(f"[yellow]{src} -> {dst}[/yellow]: {why}")
    for key, why in matrix.failed.items():
        console.print(f"[red]failed[/red] {key}: {why}")
    if png:
        matrix.heatmap(str(png))
        console.print(f"heat map: {png}")
    console.print("full mesh" if matrix.full_mesh else f"[red]{len(matrix.unreachable())} pairs unreachable")
    if not matrix.full_mesh:
        raise typer.Exit(1)


@app.command()
def down(name: str, ssh_key: SSHKeyOpt = [], concurrency: ConcOpt = 16) -> None:  # noqa: B006
    """Remove the interface from every VM (keys, addresses and the net stay)."""
    from mcinfra import cladnet

    keys = _keys(ssh_key)
    with _errors():
        report = cladnet.down(_infra(), name, ssh_keys=keys, concurrency=concurrency)
    _report(report)


@app.command()
def delete(name: str, ssh_key: SSHKeyOpt = [], concurrency: ConcOpt = 16,  # noqa: B006
           force: Annotated[bool, typer.Option(help="forget the net even if a VM was not cleaned")] = False,
           ) -> None:
    """Remove interface, key and config from every VM, then the net."""
    from mcinfra import cladnet

    keys = _keys(ssh_key)
    with _errors():
        report = cladnet.delete(_infra(), name, ssh_keys=keys, concurrency=concurrency, force=force)
    if not report.failed:
        console.print(f"cladnet {name} deleted")
    _report(report)


@app.command()
def show(name: Annotated[str | None, typer.Argument(help="a CLADNet (default: list them)")] = None,
         rules: Annotated[bool, typer.Option("--rules", help="each peer's endpoints")] = False) -> None:
    """Show a CLADNet with its peers (or list all)."""
    from mcinfra import cladnet

    with _errors():
        infra = _infra()
        if name is None:
            t = Table(title="cladnets")
            for col in ("name", "address space", "rule type", "port", "mtu", "peers", "description"):
                t.add_column(col)
            for n in cladnet.list_nets(infra):
                t.add_row(n.name, n.address_space, n.rule_type, str(n.port), str(n.mtu), str(len(n.peers)),
                          n.description)
            console.print(t)
            return
        net = cladnet.get(infra, name)
        planned = cladnet.rules(infra, name) if rules else {}
    console.print(f"[bold]{net.name}[/bold] {net.address_space} {net.rule_type} UDP {net.port} MTU {net.mtu} "
                  f"(next address index {net.next_index}) {net.description}")
    t = Table()
    for col in ("peer", "overlay IP", "interface", "state", "public IP", "private IP", "public key",
                "reason"):
        t.add_column(col)
    colors = {"up": "green", "failed": "red", "down": "dim", "configuring": "yellow"}
    for p in net.peers:
        t.add_row(p.key, p.overlay_ip, p.interface, f"[{colors.get(p.state, '')}]{p.state}",
                  p.public_ip or "", p.private_ip or "", (p.public_key or "")[:12], p.reason)
    console.print(t)
    for src, rs in planned.items():
        console.print(f"{src}: " + ", ".join(f"{r.peer}->{r.endpoint or '?'} ({r.scope})" for r in rs))

