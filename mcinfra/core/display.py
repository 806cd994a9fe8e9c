"""How results look as tables: one column list per kind, used by the CLI (rich) and by
notebooks (``_repr_html_``), so both show the same columns.

Nothing here imports rich or IPython; the CLI builds its rich tables from :func:`table_of`.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

from mcinfra.core.batch_results import BatchItem, ItemStatus
from mcinfra.core.models import (
    IID,
    CallRecord,
    DestroyReport,
    GpuInfo,
    HealthInfo,
    ImageInfo,
    KeyPairInfo,
    ListAll,
    NLBInfo,
    PriceInfo,
    ReconcileReport,
    RegionZoneInfo,
    SecurityGroupInfo,
    SpecInfo,
    SubnetInfo,
    VMInfo,
    VMStatus,
    VPCInfo,
    ZoneInfo,
)


@dataclass(frozen=True)
class Columns:
    title: str
    headers: tuple[str, ...]
    row: Callable[[Any], Sequence[Any]]


def _lines(items: Iterable[Any]) -> str:
    return "\n".join(str(i) for i in items) or "-"


def listener_text(n: NLBInfo) -> str:
    where = n.listener.dns_name or n.listener.ip or ""
    return f"{n.listener.protocol}:{n.listener.port}" + (f" @ {where}" if where else "")


def group_text(n: NLBInfo) -> str:
    return f"{n.vm_group.protocol}:{n.vm_group.port}"


def health_check_text(h: Any) -> str:
    return f"{h.protocol}:{h.port} every {h.interval}s, timeout {h.timeout}s, threshold {h.threshold}"


def gpus_text(s: SpecInfo) -> str:
    return "; ".join(f"{g.count}x {g.manufacturer} {g.model}" for g in s.gpus)


COLUMNS: dict[type, Columns] = {
    VPCInfo: Columns("VPCs", ("name", "system id", "cidr", "subnets"), lambda v: (
        v.iid.name_id, v.iid.system_id, v.cidr,
        "\n".join(f"{s.iid.name_id} {s.cidr} {s.zone or ''}".strip() for s in v.subnets))),
    SecurityGroupInfo: Columns("Security groups", ("name", "system id", "vpc", "rules"), lambda s: (
        s.iid.name_id, s.iid.system_id, s.vpc, _lines(s.rules))),
    KeyPairInfo: Columns("Key pairs", ("name", "system id", "fingerprint", "vm user"), lambda k: (
        k.iid.name_id, k.iid.system_id, k.fingerprint, k.vm_user)),
    VMInfo: Columns("VMs", ("name", "status", "zone", "public ip", "private ip", "spec", "image", "vpc/subnet",
                            "security groups", "keypair"), lambda v: (
        v.iid.name_id, v.status, v.zone, v.public_ip, v.private_ip, v.spec, v.image, f"{v.vpc}/{v.subnet}",
        v.security_groups, v.keypair)),
    NLBInfo: Columns("NLBs", ("name", "system id", "vpc", "type", "listener", "vm group", "vms", "health check"),
                     lambda n: (n.iid.name_id, n.iid.system_id, n.vpc, f"{n.type}/{n.scope}", listener_text(n),
                                group_text(n), n.vm_group.vms, health_check_text(n.health_checker))),
    RegionZoneInfo: Columns("Regions and zones", ("region", "display name", "zones"), lambda r: (
        r.name, r.display_name, "\n".join(f"{z.name} ({z.status.value})" for z in r.zones))),
    ImageInfo: Columns("Images", ("name", "system id", "distribution", "arch", "platform", "disk", "status"),
                       lambda i: (i.name or i.iid.name_id, i.iid.system_id, i.os_distribution, i.os_architecture,
                                  i.os_platform, f"{i.os_disk_type} {i.os_disk_size_gb or '-'} GB", i.status)),
    SpecInfo: Columns("Specs", ("name", "vcpus", "memory (MiB)", "gpus", "arch", "price/h"), lambda s: (
        s.name, s.vcpus, s.memory_mib, gpus_text(s), s.architecture, s.price_per_hour)),
    PriceInfo: Columns("Prices", ("spec", "region", "zone", "price/h", "currency", "os", "source"), lambda p: (
        p.spec, p.region, p.zone or "-", p.price_per_hour, p.currency, p.os, p.source)),
    SubnetInfo: Columns("Subnets", ("name", "system id", "cidr", "zone"), lambda s: (
        s.iid.name_id, s.iid.system_id, s.cidr, s.zone)),
    ZoneInfo: Columns("Zones", ("zone", "display name", "status"), lambda z: (z.name, z.display_name, z.status)),
    GpuInfo: Columns("GPUs", ("count", "manufacturer", "model", "memory (GB)"), lambda g: (
        g.count, g.manufacturer, g.model, g.memory_gb)),
    IID: Columns("IIDs", ("name", "system id"), lambda i: (i.name_id, i.system_id)),
    HealthInfo: Columns("NLB health", ("healthy", "unhealthy"), lambda h: (h.healthy, h.unhealthy)),
    ListAll: Columns("Store vs CSP", ("mapped", "only at the CSP", "only in the store"), lambda a: tuple(
        [f"{i.name_id} ({i.system_id})" for i in ids] for ids in (a.mapped, a.only_csp, a.only_store))),
    DestroyReport: Columns("destroy_all", ("all destroyed", "deleted", "remaining"), lambda r: (
        r.all_destroyed, [f"{k} {n}" for k, names in r.deleted.items() for n in names],
        [f"{k} {n}: {why}" for k, left in r.remaining.items() for n, why in left.items()])),
    ReconcileReport: Columns("reconcile", ("finished", "rolled back", "deleted", "forgotten", "failed"), lambda r: (
        r.finished, r.rolled_back, r.deleted, r.forgotten, [f"{k}: {v}" for k, v in r.failed.items()])),
    CallRecord: Columns("Call history", ("at", "connection", "operation", "name", "ms", "ok", "error"), lambda c: (
        c.at.strftime("%H:%M:%S.%f")[:-3], c.connection, c.operation, c.name, c.duration_ms, c.ok, c.error)),
}


def batch_outcome(item: BatchItem) -> str:
    """A batch item's result or error in a few words."""
    if item.error_message:
        text = f"{item.error_type}: {item.error_message}" if item.error_type else item.error_message
    else:
        result = item.result
        iid = getattr(result, "iid", None)
        status = getattr(result, "status", None)
        text = "-" if result is None else " ".join(str(p) for p in (
            iid.system_id if iid is not None else None,
            status.value if isinstance(status, Enum) else None,
            getattr(result, "public_ip", None)) if p) or cell_text(result)
    if item.rollback_error:
        text += f" (rollback failed: {item.rollback_error})"
    return text


COLUMNS[BatchItem] = Columns("Batch", ("#", "connection", "operation", "name", "status", "s", "result / error"),
                             lambda i: (i.index, i.connection, i.operation, i.name, i.status, f"{i.seconds:.2f}",
                                        batch_outcome(i)))


def columns_of(item: Any) -> Columns | None:
    return COLUMNS.get(type(item))


def cell_text(value: Any) -> str:
    """A cell's plain text (lists one item a line, enums by value, None as '-')."""
    if value is None or value == "":
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list | tuple):
        return "\n".join(cell_text(v) for v in value) or "-"
    return str(value)


#: status -> colour, in the terminal and in notebooks
STATUS_COLOURS = {
    VMStatus.RUNNING: "green", VMStatus.SUSPENDED: "yellow", VMStatus.FAILED: "red",
    VMStatus.TERMINATED: "grey50", VMStatus.NOT_EXIST: "grey50",
}
ITEM_COLOURS = {ItemStatus.OK: "green", ItemStatus.FAILED: "red", ItemStatus.CANCELLED: "grey50",
                ItemStatus.ROLLED_BACK: "yellow", ItemStatus.ROLLBACK_FAILED: "red"}


def status_colour(value: Any) -> str | None:
    if isinstance(value, VMStatus):
        return STATUS_COLOURS.get(value)
    if isinstance(value, ItemStatus):
        return ITEM_COLOURS[value]
    return None


_HTML_COLOURS = {"green": "#1a7f37", "yellow": "#9a6700", "red": "#cf222e", "grey50": "#6e7781"}


def _html_cell(value: Any) -> str:
    text = html.escape(cell_text(value)).replace("\n", "<br>")
    if isinstance(value, VMStatus | ItemStatus):
        colour = _HTML_COLOURS.get(status_colour(value) or "", "#0969da")
        return f'<span style="color:{colour};font-weight:600">{text}</span>'
    return text


def html_table(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """An HTML table; every value is escaped (resource names are user input)."""
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td style='text-align:left;vertical-align:top'>{_html_cell(v)}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return (f"<table class='mcinfra'><caption style='text-align:left;font-weight:600'>{html.escape(title)}"
            f"</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def html_of(items: Sequence[Any]) -> str | None:
    """The HTML table of a list of one kind's results (None: not a kind with a table)."""
    if not items:
        return "<p><em>(none)</em></p>"
    cols = columns_of(items[0])
    if cols is None or any(type(i) is not type(items[0]) for i in items):
        return None
    return html_table(cols.title, cols.headers, (cols.row(i) for i in items))


def rich_of(items: Sequence[Any]) -> Any:
    """A rich Table of a list of one kind's results (None: not a kind with a table)."""
    cols = columns_of(items[0]) if items else None
    if cols is None or any(type(i) is not type(items[0]) for i in items):
        return None
    from rich.table import Table

    table = Table(title=cols.title, title_justify="left", header_style="bold cyan")
    for header in cols.headers:
        table.add_column(header, overflow="fold")
    for item in items:
        cells = []
        for value in cols.row(item):
            text = cell_text(value)
            colour = status_colour(value)
            cells.append(f"[{colour}]{text}[/]" if colour else text)
        table.add_row(*cells)
    return table


class ResultList(list[Any]):
    """A ``list`` of results that a notebook (or rich) shows as a table with the CLI's columns."""

    def _repr_html_(self) -> str | None:
        return html_of(self)

    def __rich__(self) -> Any:
        return rich_of(self) or repr(self)


def matrix_html(title: str, labels: Sequence[str], values: Sequence[Sequence[float | None]], unit: str) -> str:
    """A heat map (a coloured table) of a square matrix, e.g. CLADNet's RTTs; off the diagonal,
    None is unreachable (red)."""
    finite = [v for row in values for v in row if v is not None]
    top = max(finite, default=1.0) or 1.0
    head = "<th></th>" + "".join(f"<th>{html.escape(label)}</th>" for label in labels)
    rows = []
    for i, (label, row) in enumerate(zip(labels, values, strict=True)):
        cells = []
        for j, v in enumerate(row):
            if i == j:
                cells.append("<td style='background:#f6f8fa'></td>")
            elif v is None:
                cells.append("<td style='background:#ffebe9'>-</td>")
            else:
                shade = int(235 - 150 * (v / top))
                cells.append(f"<td style='background:rgb({shade},{shade + 15},255)'>{v:.1f}</td>")
        rows.append(f"<tr><th>{html.escape(label)}</th>{''.join(cells)}</tr>")
    return (f"<table class='mcinfra'><caption style='text-align:left;font-weight:600'>{html.escape(title)} "
            f"({html.escape(unit)})</caption><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


#: progress(kind, name, error): one item of a long operation done (error None: it worked)
ItemProgress = Callable[[str, str, "str | None"], None]


@contextmanager
def rich_bar(label: str, total: int, console: Any = None) -> Iterator[Callable[[str, bool], None]]:
    """A rich progress bar (in a terminal, and in Jupyter, where rich renders it in the cell);
    yields ``step(description, advance)``. Default console: stderr, so results keep stdout."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
                  TimeElapsedColumn(), console=console or Console(stderr=True)) as bar:
        task = bar.add_task("", total=total)

        def step(description: str, advance: bool) -> None:
            bar.update(task, advance=1 if advance else 0, description=description)

        yield step
        bar.update(task, completed=total, description="done")


@contextmanager
def progress_bar(progress: ItemProgress | bool | None, total: int, label: str) -> Iterator[ItemProgress]:
    """The callback a long operation reports each item to: the caller's own, a rich progress bar
    (``True``), or nothing."""
    if progress is None or progress is False:
        yield lambda kind, name, error: None
        return
    if callable(progress):
        yield progress
        return
    with rich_bar(label, total) as step:
        yield lambda kind, name, error: step(f"{kind} {name}" + ("" if error is None else " (retrying)"),
                                             error is None)
