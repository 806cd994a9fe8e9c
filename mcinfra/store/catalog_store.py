"""The catalog's SQL: incremental bulk sync of image/spec/price rows, the partitions that say
how fresh they are, and ranked search (SQLite FTS5 / PostgreSQL tsvector).

The catalog package hands rows in as plain dicts and search requests as plain values; only this
module knows tables, dialects and full-text syntax.

Incremental sync, per partition, in one write transaction: read the partition's keys and
content hashes, insert rows with new keys, update rows whose hash changed (or that come back
after being gone), and stamp ``gone_at`` on rows the CSP no longer lists. A re-sync of
unchanged data therefore writes no catalog row at all. On SQLite the FTS5 index is external
content: new rows are indexed with one INSERT ... SELECT over the new id range, changed rows
are removed from it (FTS5 'delete' with their old values) before they are rewritten.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, column, func, insert, literal_column, select, table, text, update

from mcinfra.store.catalog_tables import CatalogImageRow, CatalogPartitionRow, CatalogPriceRow, CatalogSpecRow

if TYPE_CHECKING:
    from mcinfra.store.db import Store

T_IMG = CatalogImageRow.__table__
T_SPEC = CatalogSpecRow.__table__
T_PRICE = CatalogPriceRow.__table__
T_PART = CatalogPartitionRow.__table__
#: the FTS5 table (SQLite only; made by the migration, not an ORM table)
T_FTS = table("catalog_images_fts", column("rowid"))

#: kind -> (table, key columns besides connection/region, data columns hashed and written)
LAYOUT: dict[str, tuple[Any, tuple[str, ...], tuple[str, ...]]] = {
    "images": (T_IMG, ("image_id",), ("name", "os_family", "os_version", "arch", "platform", "distribution")),
    "specs": (T_SPEC, ("spec_id",), ("vcpus", "memory_gb", "arch", "gpu", "gpu_count", "listed_price_usd")),
    "prices": (T_PRICE, ("spec_id", "zone"), ("price_usd", "price", "currency", "source")),
}
FTS_COLUMNS = "name, distribution, os_family, os_version, facets"
#: the columns user keywords are matched against (facets are only the filters' words)
TEXT_COLUMNS = "{name distribution os_family os_version}"
#: bm25 weights of the FTS columns: a word of the name counts most; facets not at all
FTS_WEIGHTS = "4.0, 1.0, 2.0, 2.0, 0.0"
#: facet prefixes (see migration 0004): the filter columns that have index words
FACETS = {"provider": "zp", "region": "zr", "connection": "zc", "arch": "za"}
#: characters the facet expression strips; a value with any other non-alphanumeric character
#: gets no facet word in the query (its column filter still applies)
_FACET_STRIP = re.compile(r"[-_. :/]")
_ALNUM = re.compile(r"[a-z0-9]+")
_P = bindparam


def content_hash(values: Sequence[Any]) -> str:
    return hashlib.blake2b(repr(tuple(values)).encode(), digest_size=16).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    """SQLite keeps no zone; every stored time was written in UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _timed(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["synced_at"], out["gone_at"] = _aware(out["synced_at"]), _aware(out["gone_at"])
    return out


@dataclass
class SyncCounts:
    inserted: int = 0
    updated: int = 0
    gone: int = 0
    rows: int = 0


@dataclass(frozen=True)
class Terms:
    """A parsed keyword query: each term is a tuple of words (a phrase); ``prefix`` marks the
    terms whose last word is a prefix."""

    include: tuple[tuple[str, ...], ...]
    exclude: tuple[tuple[str, ...], ...] = ()
    prefix: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True)
class ImageFilters:
    terms: Terms | None = None
    arch: str | None = None
    os_family: str | None = None
    os_version: str | None = None
    provider: str | None = None
    region: str | None = None
    connection: str | None = None
    include_gone: bool = False


@dataclass(frozen=True)
class SpecFilters:
    vcpus: tuple[int | None, int | None] = (None, None)
    memory_gb: tuple[float | None, float | None] = (None, None)
    gpu: str | bool | None = None
    gpu_count: tuple[int | None, int | None] = (None, None)
    arch: str | None = None
    max_price: float | None = None
    provider: str | None = None
    region: str | None = None
    connection: str | None = None
    include_gone: bool = False


class CatalogStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    @property
    def is_sqlite(self) -> bool:
        return self.store.is_sqlite

    # ------------------------------------------------------------------ rows
    def sync_rows(self, kind: str, connection: str, provider: str, region: str,
                  rows: Iterable[dict[str, Any]], now: datetime) -> SyncCounts:
        """Make the partition's rows what ``rows`` says (see the module doc); returns what was written."""
        table, key_cols, data_cols = LAYOUT[kind]
        incoming: dict[tuple[Any, ...], dict[str, Any]] = {}
        for r in rows:
            r["content_hash"] = content_hash([r[c] for c in data_cols])
            incoming[tuple(r[c] for c in key_cols)] = r
        counts = SyncCounts(rows=len(incoming))
        where = and_(table.c.connection == connection, table.c.region == region)
        sel = select(table.c.id, table.c.content_hash, table.c.gone_at, *(table.c[c] for c in key_cols)).where(where)
        with self.store._tx(write=True) as c:
            existing = {tuple(row[3:]): (row[0], row[1], row[2]) for row in c.execute(sel)}
            new, changed, gone = [], [], []
            for key, r in incoming.items():
                have = existing.get(key)
                if have is None:
                    new.append({**r, "connection": connection, "provider": provider, "region": region,
                                "synced_at": now, "gone_at": None})
                elif have[1] != r["content_hash"] or have[2] is not None:
                    changed.append({**{c: r[c] for c in data_cols}, "content_hash": r["content_hash"],
                                    "row_id": have[0], "synced_at": now})
            for key, (row_id, _, gone_at) in existing.items():
                if key not in incoming and gone_at is None:
                    gone.append({"row_id": row_id, "gone_at": now})
            fts = kind == "images" and self.is_sqlite
            if new:
                before = c.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() if fts else 0
                c.execute(insert(table), new)
                if fts:
                    c.execute(text(f"INSERT INTO catalog_images_fts(rowid, {FTS_COLUMNS}) "
                                   f"SELECT id, {FTS_COLUMNS} FROM catalog_images_fts_src WHERE id > :before"),
                              {"before": before})
            if changed:
                ids = [{"row_id": r["row_id"]} for r in changed]
                if fts:
                    c.execute(text(f"INSERT INTO catalog_images_fts(catalog_images_fts, rowid, {FTS_COLUMNS}) "
                                   f"SELECT 'delete', id, {FTS_COLUMNS} FROM catalog_images_fts_src "
                                   "WHERE id = :row_id"), ids)
                values = {c: _P(c) for c in (*data_cols, "content_hash", "synced_at")}
                c.execute(update(table).where(table.c.id == _P("row_id")).values(**values, gone_at=None), changed)
                if fts:
                    c.execute(text(f"INSERT INTO catalog_images_fts(rowid, {FTS_COLUMNS}) "
                                   f"SELECT id, {FTS_COLUMNS} FROM catalog_images_fts_src WHERE id = :row_id"), ids)
            if gone:
                c.execute(update(table).where(table.c.id == _P("row_id")).values(gone_at=_P("gone_at")), gone)
        counts.inserted, counts.updated, counts.gone = len(new), len(changed), len(gone)
        return counts

    # ------------------------------------------------------------------ partitions
    def partitions(self, *, kinds: Iterable[str] | None = None, provider: str | None = None,
                   region: str | None = None, connection: str | None = None) -> list[dict[str, Any]]:
        q = select(T_PART)
        if kinds is not None:
            q = q.where(T_PART.c.kind.in_(list(kinds)))
        for col, value in (("provider", provider), ("region", region), ("connection", connection)):
            if value is not None:
                q = q.where(T_PART.c[col] == value)
        with self.store._tx() as c:
            rows = [dict(r) for r in c.execute(q.order_by(T_PART.c.connection, T_PART.c.region, T_PART.c.kind))
                    .mappings()]
        for r in rows:
            r["synced_at"] = _aware(r["synced_at"])
        return rows

    def begin_run(self, keys: Sequence[tuple[str, str, str, str]], *, resume: bool
                  ) -> tuple[str, set[tuple[str, str, str]], bool]:
        """Mark the planned partitions ``(connection, provider, region, kind)`` as part of a new
        run. Returns (run id, partitions an interrupted earlier run finished — skipped when
        ``resume`` —, whether there was an interrupted run to resume)."""
        run_id = str(uuid.uuid4())
        done: set[tuple[str, str, str]] = set()
        interrupted = False
        with self.store._tx(write=True) as c:
            have = {(r.connection, r.region, r.kind): r for r in c.execute(select(
                T_PART.c.connection, T_PART.c.region, T_PART.c.kind, T_PART.c.run_id, T_PART.c.run_done))}
            fresh, claim = [], []
            for conn, provider, region, kind in keys:
                old = have.get((conn, region, kind))
                if old is None:
                    fresh.append({"connection": conn, "provider": provider, "region": region, "kind": kind,
                                  "status": "running", "row_count": 0, "written": 0, "run_id": run_id,
                                  "run_done": False})
                    continue
                if old.run_id is not None:
                    interrupted = True
                    if resume and old.run_done:
                        done.add((conn, region, kind))
                claim.append({"k_conn": conn, "k_region": region, "k_kind": kind,
                              "run_done": resume and (conn, region, kind) in done})
            if fresh:
                c.execute(insert(T_PART), fresh)
            if claim:
                c.execute(update(T_PART).where(and_(
                    T_PART.c.connection == _P("k_conn"), T_PART.c.region == _P("k_region"),
                    T_PART.c.kind == _P("k_kind"))).values(run_id=run_id, run_done=_P("run_done")), claim)
        return run_id, done, interrupted

    def finish_partition(self, connection: str, region: str, kind: str, *, status: str, error: str | None,
                         synced_at: datetime | None, duration_s: float, row_count: int, written: int) -> None:
        values: dict[str, Any] = {"status": status, "error": error, "duration_s": duration_s, "run_done": True}
        if status == "ok":
            values.update(synced_at=synced_at, row_count=row_count, written=written)
        with self.store._tx(write=True) as c:
            c.execute(update(T_PART).where(and_(T_PART.c.connection == connection, T_PART.c.region == region,
                                                T_PART.c.kind == kind)).values(**values))

    def end_run(self, run_id: str) -> None:
        with self.store._tx(write=True) as c:
            c.execute(update(T_PART).where(T_PART.c.run_id == run_id).values(run_id=None, run_done=False))

    def oldest_synced(self, kinds: Iterable[str], *, provider: str | None = None, region: str | None = None,
                      connection: str | None = None) -> datetime | None:
        q = select(func.min(T_PART.c.synced_at)).where(T_PART.c.kind.in_(list(kinds)))
        for col, value in (("provider", provider), ("region", region), ("connection", connection)):
            if value is not None:
                q = q.where(T_PART.c[col] == value)
        with self.store._tx() as c:
            return _aware(c.execute(q).scalar())

    # ------------------------------------------------------------------ search
    @staticmethod
    def _facets(f: ImageFilters) -> list[str]:
        """The facet words of the filters given (see FACETS)."""
        out = []
        for col, prefix in FACETS.items():
            value = getattr(f, col)
            if value is None:
                continue
            word = _FACET_STRIP.sub("", value.lower())
            if _ALNUM.fullmatch(word):
                out.append(prefix + word)
        return out

    def _match(self, terms: Terms, facets: list[str]) -> tuple[Any, Any, str]:
        """(where clause, rank expression ascending, query string) of a keyword query."""
        if self.is_sqlite:
            def phrase(i: int, t: tuple[str, ...]) -> str:
                return '"' + " ".join(t) + '"' + ("*" if i in terms.prefix else "")
            q = " ".join(phrase(i, t) for i, t in enumerate(terms.include))
            q = f"{TEXT_COLUMNS} : ({q})" + "".join(f" NOT {TEXT_COLUMNS} : {phrase(-1, t)}" for t in terms.exclude)
            if facets:
                q = " AND ".join([f"({q})", *(f'facets : "{w}"' for w in facets)])
            return (text("catalog_images_fts MATCH :q"),
                    literal_column(f"bm25(catalog_images_fts, {FTS_WEIGHTS})"), q)

        def ts(i: int, t: tuple[str, ...]) -> str:
            return " <-> ".join(t) + (":*" if i in terms.prefix else "")
        parts = [f"({ts(i, t)})" for i, t in enumerate(terms.include)]
        parts += [f"!({ts(-1, t)})" for t in terms.exclude]
        parts += facets
        q = " & ".join(parts)
        query = func.to_tsquery(literal_column("'simple'"), _P("q"))
        return (literal_column("catalog_images.search").op("@@")(query),
                -func.ts_rank(literal_column("catalog_images.search"), query), q)

    def search_images(self, f: ImageFilters, limit: int) -> list[dict[str, Any]]:
        cols = [T_IMG.c[c] for c in ("connection", "provider", "region", "image_id", "name", "os_family",
                                     "os_version", "arch", "platform", "distribution", "synced_at", "gone_at")]
        q = select(*cols)
        params: dict[str, Any] = {}
        order: list[Any] = []
        if f.terms is not None:
            where, rank, params["q"] = self._match(f.terms, self._facets(f))
            if self.is_sqlite:
                q = q.select_from(T_FTS.join(T_IMG, T_IMG.c.id == T_FTS.c.rowid))
            q = q.where(where)
            order.append(rank)
        for col, value in (("arch", f.arch), ("os_family", f.os_family), ("os_version", f.os_version),
                           ("provider", f.provider), ("region", f.region), ("connection", f.connection)):
            if value is not None:
                q = q.where(T_IMG.c[col] == value)
        if not f.include_gone:
            q = q.where(T_IMG.c.gone_at.is_(None))
        order += [T_IMG.c.provider, T_IMG.c.region, T_IMG.c.name]
        with self.store._tx() as c:
            return [_timed(r) for r in c.execute(q.order_by(*order).limit(limit), params).mappings()]

    def search_specs(self, f: SpecFilters, sort: str, limit: int) -> list[dict[str, Any]]:
        price = T_PRICE.alias("p")
        joined = T_SPEC.outerjoin(price, and_(
            price.c.connection == T_SPEC.c.connection, price.c.region == T_SPEC.c.region,
            price.c.spec_id == T_SPEC.c.spec_id, price.c.zone == "", price.c.gone_at.is_(None)))
        usd = func.coalesce(price.c.price_usd, T_SPEC.c.listed_price_usd)
        q = select(*(T_SPEC.c[c] for c in ("connection", "provider", "region", "spec_id", "vcpus", "memory_gb",
                                             "arch", "gpu", "gpu_count", "synced_at", "gone_at")),
                   usd.label("price"), price.c.price.label("original_price"),
                   price.c.currency.label("original_currency"), price.c.source.label("price_source")
                   ).select_from(joined)
        for col, (lo, hi) in (("vcpus", f.vcpus), ("memory_gb", f.memory_gb), ("gpu_count", f.gpu_count)):
            if lo is not None:
                q = q.where(T_SPEC.c[col] >= lo)
            if hi is not None:
                q = q.where(T_SPEC.c[col] <= hi)
        if f.gpu is True:
            q = q.where(T_SPEC.c.gpu_count > 0)
        elif f.gpu is False:
            q = q.where(T_SPEC.c.gpu_count == 0)
        elif isinstance(f.gpu, str):
            q = q.where(T_SPEC.c.gpu == f.gpu)
        if f.max_price is not None:
            q = q.where(usd <= f.max_price)
        for col, value in (("arch", f.arch), ("provider", f.provider), ("region", f.region),
                           ("connection", f.connection)):
            if value is not None:
                q = q.where(T_SPEC.c[col] == value)
        if not f.include_gone:
            q = q.where(T_SPEC.c.gone_at.is_(None))
        order = {"price": [usd.asc().nulls_last()], "vcpus": [T_SPEC.c.vcpus, T_SPEC.c.memory_gb],
                 "memory": [T_SPEC.c.memory_gb, T_SPEC.c.vcpus], "name": [T_SPEC.c.spec_id]}[sort]
        order += [T_SPEC.c.provider, T_SPEC.c.region, T_SPEC.c.spec_id]
        with self.store._tx() as c:
            return [_timed(r) for r in c.execute(q.order_by(*order).limit(limit)).mappings()]

    def count_rows(self, kind: str, *, live_only: bool = True) -> int:
        table = LAYOUT[kind][0]
        q = select(func.count()).select_from(table)
        if live_only:
            q = q.where(table.c.gone_at.is_(None))
        with self.store._tx() as c:
            return int(c.execute(q).scalar_one())


__all__ = ["CatalogStore", "ImageFilters", "SpecFilters", "SyncCounts", "Terms", "content_hash"]
