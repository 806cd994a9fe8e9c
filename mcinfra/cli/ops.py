"""Connection- and store-wide commands: `destroy`, `reconcile`, `lock info`, `history`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mcinfra.cli.context import DESTROY_INCOMPLETE, ConnOpt, JsonOpt, cloud, infra, want_json
from mcinfra.cli.output import console, emit_json, show, table
from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import DestroyReport

lock_app = typer.Typer(help="SP-Lock state.", no_args_is_help=True)


def destroy_view(r: DestroyReport) -> Any:
    rows: list[tuple[str, str, str]] = [(k, n, "[green]deleted[/]") for k, names in r.deleted.items() for n in names]
    rows += [(k, n, f"[red]left: {why}[/]") for k, items in r.remaining.items() for n, why in items.items()]
    title = "Destroyed everything" if r.all_destroyed else "Destroy left resources behind"
    return table(title, ["kind", "name", "result"], rows)


def destroy(
    connection: ConnOpt,
    rounds: Annotated[int, typer.Option("--rounds", help="Retry rounds per kind.", min=1)] = 10,
    pause: Annotated[float, typer.Option("--pause", help="Seconds between rounds.", min=0)] = 1.0,
    as_json: JsonOpt = False,
) -> None:
    """Delete everything the store maps for a connection (NLB -> VM -> key/SG -> VPC).

    Exits 12 if something is left."""
    report = cloud(connection).destroy_all(rounds=rounds, pause=pause, progress=not want_json(as_json))
    show(report, as_json, destroy_view)
    if not report.all_destroyed:
        raise typer.Exit(DESTROY_INCOMPLETE)


def reconcile(
    connection: Annotated[str | None, typer.Option("--connection", "-c", help="Only this connection.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Settle what a crash left: finish or roll back pending creates, finish interrupted deletes."""
    report = infra().reconcile(connection=connection)
    if want_json(as_json):
        emit_json(report)
        return
    rows = [(x, "[green]finished[/]") for x in report.finished] + [(x, "rolled back") for x in report.rolled_back]
    rows += [(x, "deleted") for x in report.deleted] + [(x, "already gone: forgotten") for x in report.forgotten]
    rows += [(x, f"[red]failed: {why}[/]") for x, why in report.failed.items()]
    console().print(table("Reconcile", ["resource", "result"], rows) if rows else "nothing to settle")


@lock_app.command("info")
def lock_info(as_json: JsonOpt = False) -> None:
    """Held lock keys with their holders and waiters (the in-process backend shows this process only)."""
    items = infra().locks.info()
    if not items and not want_json(as_json):
        console().print("no locks held")
        return
    show(items, as_json, lambda xs: table(
        "SP-Locks", ["connection", "kind", "name", "mode", "holders", "waiters", "refcount"],
        ((*i.key, i.mode, i.holders, i.waiters, i.refcount) for i in xs)))


def history(
    connection: Annotated[str | None, typer.Option("--connection", "-c", help="Only this connection.")] = None,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="Only this kind (vpc, vm, ...).")] = None,
    operation: Annotated[str | None, typer.Option(
        "--operation", help="Only this operation: KIND.OP (vm.start), or OP with --kind.")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="Only failed calls.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many (the most recent).", min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Recent handler calls (never secrets), oldest first."""
    if operation is not None and "." not in operation:
        if kind is None:
            raise InvalidRequest("--operation takes KIND.OP (e.g. vm.start), or OP together with --kind",
                                 field="operation")
        operation = f"{kind}.{operation}"
    items = infra().history(connection=connection, kind=kind, operation=operation, ok=False if errors else None,
                            limit=limit)
    show(items, as_json, lambda rs: table(
        "Call history", ["at", "connection", "provider", "kind", "operation", "name", "ms", "result"],
        ((r.at, r.connection, r.provider, r.kind, r.operation, r.name, f"{r.duration_ms:.1f}",
          "[green]ok[/]" if r.ok else f"[red]{r.error}[/]") for r in rs)))
