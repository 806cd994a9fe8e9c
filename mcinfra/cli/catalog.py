"""``mcinfra catalog``: sync images, specs and prices into the store, search them, and show
how fresh each partition is (see docs/catalog.md)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mcinfra.cli.context import JsonOpt, infra, want_json
from mcinfra.cli.output import show, table

catalog_app = typer.Typer(help="The image/spec/price catalog: sync it, search it (docs/catalog.md).",
                          no_args_is_help=True)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


@catalog_app.command("sync")
def sync(
    connection: Annotated[list[str] | None, typer.Option("--connection", "-c", help="A connection (repeat; "
                                                         "default: every connection).")] = None,
    kinds: Annotated[str, typer.Option("--kinds", "-k", help="Comma-separated: images,specs,prices.")
                     ] = "images,specs,prices",
    region: Annotated[list[str] | None, typer.Option("--region", "-r", help="A CSP region of the connections' "
                                                     "provider (repeat), or 'all'; default: each connection's own.")
                      ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", help="Regions synced at once.")] = 4,
    max_age: Annotated[float | None, typer.Option("--max-age", help="Skip partitions synced less than this "
                                                  "many seconds ago.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Pull images, specs and prices through the drivers into the store (incremental, resumable)."""
    regions: Any = None
    if region:
        regions = "all" if region == ["all"] else region
    report = infra().catalog.sync(connection or None, kinds=kinds, regions=regions, concurrency=concurrency,
                                  max_age=max_age, progress=not want_json(as_json))
    data = report.model_dump()
    data.update(ok=report.ok, written=report.written)
    show(data if want_json(as_json) else report, as_json, lambda r: table(
        f"Catalog sync ({r.duration_s:.1f} s{', resumed' if r.resumed else ''})",
        ["connection", "region", "kind", "status", "rows", "new", "changed", "gone", "seconds", "error"],
        ((p.connection, p.region, p.kind, _status(p.status), p.rows, p.inserted, p.updated, p.gone,
          f"{p.duration_s:.2f}", p.error or "") for p in r.partitions)))
    if not report.ok:
        raise typer.Exit(9)


def _status(status: str) -> str:
    return {"ok": "[green]ok[/]", "error": "[red]error[/]", "unsupported": "[yellow]unsupported[/]"}.get(
        status, status)


@catalog_app.command("images")
def images(
    query: Annotated[str | None, typer.Argument(help='Keywords, e.g. "ubuntu 22.04" (docs/catalog.md).')] = None,
    arch: Annotated[str | None, typer.Option("--arch", help="x86_64 or arm64.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", "-p")] = None,
    region: Annotated[str | None, typer.Option("--region", "-r")] = None,
    connection: Annotated[str | None, typer.Option("--connection", "-c")] = None,
    os: Annotated[str | None, typer.Option("--os", help='OS family and optional version: "ubuntu 22.04".')] = None,
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    include_gone: Annotated[bool, typer.Option("--include-gone", help="Also images the CSP no longer lists.")
                            ] = False,
    max_age: Annotated[float | None, typer.Option("--max-age", help="Re-sync partitions older than this many "
                                                  "seconds first.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the synced images, best match first."""
    rows = infra().catalog.images.search(query, arch=arch, provider=provider, region=region, connection=connection,
                                         os=os, limit=limit, include_gone=include_gone, max_age=max_age)
    show(rows, as_json, lambda rs: table(
        f"Images ({len(rs)}; data {_age(rs.age_s)} old)",
        ["provider", "region", "connection", "id", "name", "os", "arch"],
        ((r.provider, r.region, r.connection, r.id, r.name, f"{r.os_family} {r.os_version}".strip(), r.arch)
         for r in rs)))


@catalog_app.command("specs")
def specs(
    vcpus: Annotated[str | None, typer.Option("--vcpus", help="N (exactly), or MIN:MAX (either may be empty).")
                     ] = None,
    memory: Annotated[str | None, typer.Option("--memory", help="GiB: N (at least N), or MIN:MAX.")] = None,
    gpu: Annotated[str | None, typer.Option("--gpu", help="A GPU model (A100), 'any' or 'none'.")] = None,
    gpu_count: Annotated[str | None, typer.Option("--gpu-count", help="N or MIN:MAX.")] = None,
    arch: Annotated[str | None, typer.Option("--arch")] = None,
    max_price: Annotated[float | None, typer.Option("--max-price", help="USD per hour.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", "-p")] = None,
    region: Annotated[str | None, typer.Option("--region", "-r")] = None,
    connection: Annotated[str | None, typer.Option("--connection", "-c")] = None,
    sort: Annotated[str, typer.Option("--sort", help="price, vcpus, memory or name.")] = "price",
    limit: Annotated[int, typer.Option("--limit", "-n")] = 50,
    max_age: Annotated[float | None, typer.Option("--max-age")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the synced VM specs, cheapest first by default."""
    gpu_filter: Any = {"any": True, "none": False}.get((gpu or "").lower(), gpu)
    rows = infra().catalog.specs.search(
        vcpus=_range(vcpus, "vcpus", int, exact=True), memory_gb=_range(memory, "memory", float, exact=False),
        gpu=gpu_filter, gpu_count=_range(gpu_count, "gpu_count", int, exact=True), arch=arch, max_price=max_price,
        provider=provider, region=region, connection=connection, sort=sort, limit=limit, max_age=max_age)
    show(rows, as_json, lambda rs: table(
        f"Specs ({len(rs)}; data {_age(rs.age_s)} old)",
        ["provider", "region", "connection", "id", "vcpus", "memory GiB", "gpu", "arch", "USD/h", "original"],
        ((r.provider, r.region, r.connection, r.id, r.vcpus, f"{r.memory_gb:g}",
          f"{r.gpu_count}x {r.gpu}" if r.gpu_count else "", r.arch, _price(r.price),
          "" if r.original_price is None or r.original_currency == "USD"
          else f"{r.original_price:g} {r.original_currency}") for r in rs)))


def _range(text: str | None, field: str, kind: type, *, exact: bool) -> Any:
    """'8' -> (8, 8) when ``exact`` else (8, None); '4:16' -> (4, 16); ':32' -> (None, 32)."""
    from mcinfra.core.errors import InvalidRequest

    if text is None:
        return None
    try:
        if ":" not in text:
            n = kind(text)
            return (n, n) if exact else (n, None)
        lo, hi = text.split(":", 1)
        return (kind(lo) if lo else None, kind(hi) if hi else None)
    except ValueError:
        raise InvalidRequest(f"--{field.replace('_', '-')} takes N or MIN:MAX, not {text!r}", field=field) from None


@catalog_app.command("status")
def status(
    connection: Annotated[str | None, typer.Option("--connection", "-c")] = None,
    kind: Annotated[str | None, typer.Option("--kind", "-k", help="images, specs or prices.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every synced (connection, region, kind): when, how long, rows, and how it ended."""
    parts = infra().catalog.status(connection=connection, kind=kind)
    show(parts, as_json, lambda ps: table(
        "Catalog partitions", ["connection", "provider", "region", "kind", "status", "age", "seconds", "rows",
                               "written", "error"],
        ((p.connection, p.provider, p.region, p.kind, _status(p.status), _age(p.age_s),
          "-" if p.duration_s is None else f"{p.duration_s:.2f}", p.row_count, p.written, p.error or "")
         for p in ps)))
