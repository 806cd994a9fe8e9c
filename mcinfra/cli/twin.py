"""``mcinfra twin ...``: look after the local twin cloud (regions, cleanup)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="The twin: a local cloud on Linux network namespaces.", no_args_is_help=True)


@app.command("regions")
def regions() -> None:
    """List the twin regions registered on this host (prefix, public block, state dir)."""
    from rich.console import Console
    from rich.table import Table

    from mcinfra.drivers.twin.state import registered_regions

    table = Table("prefix", "region", "public block", "state dir")
    for prefix, entry in sorted(registered_regions().items()):
        table.add_row(prefix, entry.get("region", ""), entry.get("block", ""), entry.get("state_dir", ""))
    Console().print(table)


def _from_connection(name: str) -> tuple[str, Path | None]:
    """(twin region, state dir) of a connection in the store."""
    from mcinfra.cli import context
    from mcinfra.core.errors import McInfraError
    from mcinfra.drivers.twin.driver import DEFAULT_REGION

    try:
        inf = context.infra()
        cfg = inf.connections.get(name)
        region = inf.regions.get(cfg.region).region if cfg.region else DEFAULT_REGION
    except McInfraError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(context.exit_code(exc)) from None
    if cfg.provider != "twin":
        typer.echo(f"connection {name!r} is a {cfg.provider} connection, not twin", err=True)
        raise typer.Exit(2)
    state_dir = cfg.options.get("state_dir")
    return region, Path(state_dir) if state_dir else None


@app.command("cleanup")
def cleanup(
    region: str = typer.Option(None, "--region", "-r", help="twin region name (as in the connection)"),
    state_dir: Path = typer.Option(None, "--state-dir", help="the region's state_dir option, if set"),
    connection: str = typer.Option(None, "--connection", "-c", help="take region and state_dir from a connection"),
    all_regions: bool = typer.Option(False, "--all", help="every twin region on this host"),
) -> None:
    """Delete everything a twin region made: namespaces, links, processes, cgroups, files.

    The store is not touched: names it still maps become ``only_store`` in ``list_all``.
    """
    from mcinfra.drivers.twin.cleanup import cleanup_all, cleanup_region
    from mcinfra.drivers.twin.netns import missing_tools

    missing = missing_tools()
    if missing:
        typer.echo(f"twin cleanup needs {', '.join(missing)}", err=True)
        raise typer.Exit(2)
    if [bool(region), bool(connection), all_regions].count(True) != 1:
        typer.echo("give exactly one of --region, --connection or --all", err=True)
        raise typer.Exit(2)
    if connection:
        region, state_dir = _from_connection(connection)
    report = cleanup_all() if all_regions else cleanup_region(region, state_dir)
    typer.echo(
        f"deleted {len(report.namespaces)} namespaces, {report.processes} processes, "
        f"{len(report.cgroups)} cgroups, {len(report.links)} links, {len(report.files)} state dirs"
        + ("; the twin internet is gone" if report.internet_removed else "")
    )
