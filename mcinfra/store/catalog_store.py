"""The catalog's SQL: incremental bulk sync of image/spec/price rows, the partitions that say
how fresh they are, and ranked search (SQLite FTS5 / PostgreSQL tsvector).

The catalog package hands rows in as plain dicts and search requests as plain values; only this
module knows tables, dialects and full-text syntax.

Incremental sync, per partition, in one write transaction: read the partition's keys and
content hashes, insert rows with new keys, update rows whose hash changed (or that come back
after being gone), and stamp ``gone_at`` on rows the CSP no longer lists. A re-sync of
unchanged data therefore writes no catalog row at all. On SQLite the FTS5 index is external
content: new rows are indexed with one INSERT ... SELECT over the new id range, changed rows
are removed from it (FTS5 'delete' with their old values) before they are rewritten. New rows
go in by executemany (SQLite) or COPY (PostgreSQL, with their tsvector words computed here), in
the order of the rank index.

Search (``search_images``) answers in two tiers: the rows of the OS family/version the query
names, from the B-tree rank index in its static order; then, only if needed, the other keyword
matches ranked by bm25 / ts_rank among a bounded candidate set.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    and_,
    bindparam,
    column,
    exists,
    func,
    insert,
    literal_column,
    not_,
    select,
    table,
    text,
    update,
)

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
    "images": (T_IMG, ("image_id",), ("name", "os_family", "os_version", "arch", "platform", "distribution",
                                      "rank_key")),
    "specs": (T_SPEC, ("spec_id",), ("vcpus", "memory_gb", "arch", "gpu", "gpu_count", "listed_price_usd")),
    "prices": (T_PRICE, ("spec_id", "zone"), ("price_usd", "price", "currency", "source")),
}
#: the order new rows are inserted in (see sync_rows)
LOAD_ORDER = {"images": ("os_family", "rank_key"), "specs": ("vcpus", "memory_gb"), "prices": ("spec_id", "zone")}
#: the facets column of new rows: the partition's words (``:shared``) and the arch's, which
#: must equal the view's expression (migration 0004)
FTS_NEW_FACETS = (":shared || 'za' || lower(replace(replace(replace(replace(replace(replace(arch, '-', ''), "
                  "'_', ''), '.', ''), ' ', ''), ':', ''), '/', ''))")
FTS_COLUMNS = "name, distribution, os_family, os_version, facets"
#: the columns user keywords are matched against (facets are only the filters' words)
TEXT_COLUMNS = "{name distribution os_family os_version}"
#: bm25 weights of the FTS columns: a word of the name counts most; facets not at all
FTS_WEIGHTS = "4.0, 1.0, 2.0, 2.0, 0.0"
#: facet prefixes (see migration 0004): the filter columns that have index words
FACETS = {"provider": "zp", "region": "zr", "connection": "zc", "arch": "za"}
#: what SQLite's facet expression does to a value (migration 0004): drop these characters, lower
#: ASCII letters (SQLite's lower() folds only those); a value with any other non-alphanumeric
#: character gets no facet word in the query (its column filter still applies)
_ALNUM = re.compile(r"[a-z0-9]+")
_ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})
_FACET_WORD = str.maketrans({**{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)},
                             **dict.fromkeys("-_. :/")})


@lru_cache(maxsize=1024)
def pg_facet_words(provider: str, region: str, connection: str, arch: str) -> tuple[str, ...]:
    """PostgreSQL's facet words of a row: ``zp`` + the provider's letters and digits, ``zr``
    the region's, ``zc`` the connection's, ``za`` the arch's (lower-cased)."""
    return tuple(prefix + "".join(_ALNUM.findall(value.translate(_ASCII_LOWER)))
                 for value, prefix in ((provider, "zp"), (region, "zr"), (connection, "zc"), (arch, "za")))


def pg_search_words(name: str, distribution: str, os_family: str, os_version: str, facets: tuple[str, ...]) -> str:
    """The ``search`` tsvector of an image row on PostgreSQL, as tsvector text: the words
    (runs of ASCII letters and digits, lower-cased: what SQLite's tokenizer makes of them) of
    the name, distribution, OS family and version at their positions, then the row's facet
    words (:func:`pg_facet_words`). A word at several positions is listed once per position;
    PostgreSQL merges them."""
    words = _ALNUM.findall(f"{name} {distribution} {os_family} {os_version}".translate(_ASCII_LOWER))
    words += facets
    return " ".join([f"'{w}':{i}" for i, w in enumerate(words[:MAX_TS_POSITION], 1)])


def facet_word(value: str) -> str:
    """The facet word of a provider/region/connection/arch value, as SQLite's view makes it."""
    return value.translate(_FACET_WORD)


#: a keyword search ranks (bm25 / ts_rank) at most this many of its matches (or its limit, if
#: larger; see CatalogStore._ranked). A query matching more is broad ("server"): ranking every
#: match costs ~4 us a row.
RANK_CANDIDATES = 1000
#: a residual keyword (tier one) matching at least this many rows is checked row by row
RESIDUAL_SET_MAX = 20_000
#: PostgreSQL's tsvector positions go up to 16,383
MAX_TS_POSITION = 16_383
#: a sync writing at least this many rows refreshes PostgreSQL's statistics (after_sync)
ANALYZE_AFTER_ROWS = 10_000
#: PostgreSQL: the GIN pending list an image partition's sync lets grow (default 4 MB)
GIN_PENDING_KB = 32 * 1024
#: WAL pages a sync lets accumulate before a checkpoint (see sync_rows): ~40 MB
WAL_CHECKPOINT_PAGES = 10_000
_P = bindparam


def _key_getter(cols: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row's key as a tuple (itemgetter returns a bare value for one column)."""
    if len(cols) == 1:
        only = cols[0]
        return lambda r: (r[only],)
    return itemgetter(*cols)


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
class OsMatch:
    """The OS family (and version: exactly it or ``<version>.x``) a keyword query names, and the
    query's other terms (``residual``). Every row of that family and version also matches those
    terms in the full-text index, so they are the first tier of the ranking."""

    family: str
    version: str | None = None
    residual: Terms | None = None


@dataclass(frozen=True)
class ImageFilters:
    terms: Terms | None = None
    #: the structured part of ``terms`` (see :class:`OsMatch`), None when it names no OS family
    os_match: OsMatch | None = None
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
        data_of, key_of = itemgetter(*data_cols), _key_getter(key_cols)
        incoming: dict[tuple[Any, ...], tuple[dict[str, Any], str]] = {}
        for r in rows:
            incoming[key_of(r)] = (r, content_hash(data_of(r)))
        counts = SyncCounts(rows=len(incoming))
        where = and_(table.c.connection == connection, table.c.region == region)
        sel = select(table.c.id, table.c.content_hash, table.c.gone_at, *(table.c[c] for c in key_cols)).where(where)
        with self.store._tx(write=True) as c:
            if self.is_sqlite and not self.store.is_memory:
                # let the WAL grow to ~40 MB before a commit copies it into the database (1,000
                # pages by default): a bulk sync touches the same index pages partition after
                # partition, and copying them once per 40 MB instead of at every partition's
                # commit saves about a third of a large load's time. Durability is the same (the
                # WAL is the committed data); the setting stays with this pooled connection.
                c.exec_driver_sql(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            if not self.is_sqlite and kind == "images":
                # new words go to the GIN index's pending list and are merged into it 32 MB at a
                # time instead of 4 (fewer, larger merges: ~15 % of a bulk load); the sync run
                # merges what is left when it ends (after_sync)
                c.exec_driver_sql(f"SET LOCAL gin_pending_list_limit = '{GIN_PENDING_KB}kB'")
            existing = {tuple(row[3:]): (row[0], row[1], row[2]) for row in c.execute(sel)}
            new: list[tuple[Any, ...]] = []
            changed: list[dict[str, Any]] = []
            gone: list[dict[str, Any]] = []
            for key, (r, digest) in incoming.items():
                have = existing.get(key)
                if have is None:
                    new.append((*key, *data_of(r), digest))
                elif have[1] != digest or have[2] is not None:
                    changed.append({**{c: r[c] for c in data_cols}, "content_hash": digest,
                                    "row_id": have[0], "synced_at": now})
            for key, (row_id, _, gone_at) in existing.items():
                if key not in incoming and gone_at is None:
                    gone.append({"row_id": row_id, "gone_at": now})
            fts = kind == "images" and self.is_sqlite
            cols: tuple[str, ...] = (*key_cols, *data_cols, "content_hash")
            if kind == "images" and not self.is_sqlite:
                words = self._pg_words_of(cols, provider, region, connection)
                new = [(*t, words(t)) for t in new]
                cols = (*cols, "search")
                for r in changed:
                    r["search"] = pg_search_words(r["name"], r["distribution"], r["os_family"], r["os_version"],
                                                  pg_facet_words(provider, region, connection, r["arch"]))
            if new:
                # in the order of the kind's main index: its B-tree then takes the batch page by
                # page instead of at random places (a third of an image insert's cost)
                at = (*key_cols, *data_cols).index
                new.sort(key=itemgetter(*(at(col) for col in LOAD_ORDER[kind])))
                before = c.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one() if fts else 0
                self._bulk_insert(c, table, cols, new,
                                  {"connection": connection, "provider": provider, "region": region,
                                   "synced_at": now, "gone_at": None})
                if fts:
                    # the view's facet words, the partition's shared part computed once here
                    # (the view's expression costs as much as the rest of the indexing)
                    shared = " ".join(f"{FACETS[k]}{facet_word(v)}" for k, v in (
                        ("provider", provider), ("region", region), ("connection", connection)))
                    c.execute(text(f"INSERT INTO catalog_images_fts(rowid, {FTS_COLUMNS}) "
                                   f"SELECT id, {FTS_COLUMNS.replace('facets', FTS_NEW_FACETS)} FROM catalog_images "
                                   "WHERE id > :before"), {"before": before, "shared": shared + " "})
            if changed:
                ids = [{"row_id": r["row_id"]} for r in changed]
                if fts:
                    c.execute(text(f"INSERT INTO catalog_images_fts(catalog_images_fts, rowid, {FTS_COLUMNS}) "
                                   f"SELECT 'delete', id, {FTS_COLUMNS} FROM catalog_images_fts_src "
                                   "WHERE id = :row_id"), ids)
                values = {c: _P(c) for c in (*data_cols, "content_hash", "synced_at")}
                c.execute(update(table).where(table.c.id == _P("row_id")).values(**values, gone_at=None), changed)
                if "search" in cols:  # PostgreSQL's words column (not an ORM column: SQLite has none)
                    c.execute(text("UPDATE catalog_images SET search = CAST(:search AS tsvector) WHERE id = :row_id"),
                              [{"search": r["search"], "row_id": r["row_id"]} for r in changed])
                if fts:
                    c.execute(text(f"INSERT INTO catalog_images_fts(rowid, {FTS_COLUMNS}) "
                                   f"SELECT id, {FTS_COLUMNS} FROM catalog_images_fts_src WHERE id = :row_id"), ids)
            if gone:
                c.execute(update(table).where(table.c.id == _P("row_id")).values(gone_at=_P("gone_at")), gone)
        counts.inserted, counts.updated, counts.gone = len(new), len(changed), len(gone)
        return counts

    @staticmethod
    def _pg_words_of(cols: tuple[str, ...], provider: str, region: str, connection: str
                     ) -> Callable[[tuple[Any, ...]], str]:
        """tuple of ``cols`` -> its ``search`` words (pg_search_words)."""
        name, dist, family, version, arch = (cols.index(c) for c in (
            "name", "distribution", "os_family", "os_version", "arch"))
        return lambda t: pg_search_words(t[name], t[dist], t[family], t[version],
                                         pg_facet_words(provider, region, connection, t[arch]))

    def _bulk_insert(self, c: Any, table: Any, cols: tuple[str, ...], rows: list[tuple[Any, ...]],
                     same: dict[str, Any]) -> None:
        """Insert ``rows`` (values of ``cols``; ``same`` holds the values every row shares) the
        fastest way each database offers: PostgreSQL's COPY, SQLite's executemany of plain
        tuples. Both bypass SQLAlchemy's per-row parameter processing (most of a large
        insert's time); the shared values go through their column type's processing once."""
        names = [*cols, *same]
        if not self.is_sqlite:
            tail = tuple(same.values())
            raw = c.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r + tail)
            return
        tail = tuple(v if v is None or (proc := table.c[k].type.dialect_impl(c.dialect).bind_processor(c.dialect))
                     is None else proc(v) for k, v in same.items())
        c.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                          [r + tail for r in rows])

    # ------------------------------------------------------------------ partitions
    def partitions(self, *, kinds: Iterable[str] | None = None, provider: str | None = None,
                   region: str | None = None, connection: str | None = None,
                   connections: Iterable[str] | None = None) -> list[dict[str, Any]]:
        q = select(T_PART)
        if kinds is not None:
            q = q.where(T_PART.c.kind.in_(list(kinds)))
        if connections is not None:
            q = q.where(T_PART.c.connection.in_(list(connections)))
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

    def after_sync(self, written: int) -> None:
        """After a sync that wrote rows, on PostgreSQL: merge the GIN index's pending list, and
        when it wrote many, refresh the planner statistics of the catalog tables: without them
        the planner takes a large keyword search's candidates to be a handful and sorts all of
        them instead of reading the rank index in order (tens of times slower at a million
        rows). Autovacuum would get there, later. SQLite's planner needs none for these queries."""
        if self.is_sqlite or not written:
            return
        with self.store._tx(write=True) as c:
            # a search reads the whole pending list of the GIN index: merge it now
            c.exec_driver_sql("SELECT gin_clean_pending_list('ix_catalog_images_search')")
            if written >= ANALYZE_AFTER_ROWS:
                for t in (T_IMG, T_SPEC, T_PRICE):
                    c.exec_driver_sql(f"ANALYZE {t.name}")

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
            word = facet_word(value)
            if _ALNUM.fullmatch(word):
                out.append(prefix + word)
        return out

    @staticmethod
    def _fts_phrase(terms: Terms, i: int, t: tuple[str, ...]) -> str:
        return '"' + " ".join(t) + '"' + ("*" if i in terms.prefix else "")

    @staticmethod
    def _ts_phrase(terms: Terms, i: int, t: tuple[str, ...]) -> str:
        return " <-> ".join(t) + (":*" if i in terms.prefix else "")

    def _match(self, terms: Terms, facets: list[str]) -> tuple[Any, Any, str]:
        """(where clause, rank expression ascending, query string) of a keyword query."""
        if self.is_sqlite:
            q = " ".join(self._fts_phrase(terms, i, t) for i, t in enumerate(terms.include))
            q = f"{TEXT_COLUMNS} : ({q})" + "".join(
                f" NOT {TEXT_COLUMNS} : {self._fts_phrase(terms, -1, t)}" for t in terms.exclude)
            if facets:
                q = " AND ".join([f"({q})", *(f'facets : "{w}"' for w in facets)])
            return (text("catalog_images_fts MATCH :q"),
                    literal_column(f"bm25(catalog_images_fts, {FTS_WEIGHTS})"), q)
        parts = [f"({self._ts_phrase(terms, i, t)})" for i, t in enumerate(terms.include)]
        parts += [f"!({self._ts_phrase(terms, -1, t)})" for t in terms.exclude]
        parts += facets
        q = " & ".join(parts)
        query = func.to_tsquery(literal_column("'simple'"), _P("q"))
        return (literal_column("catalog_images.search").op("@@")(query),
                -func.ts_rank(literal_column("catalog_images.search"), query), q)

    def _residual(self, c: Any, terms: Terms, params: dict[str, Any]) -> list[Any]:
        """Conditions on catalog_images rows for the words of a query left after its OS family
        and version (tier one of the ranking): each a full-text lookup, not a ranking."""
        if not self.is_sqlite:
            parts = [f"({self._ts_phrase(terms, i, t)})" for i, t in enumerate(terms.include)]
            parts += [f"!({self._ts_phrase(terms, -1, t)})" for t in terms.exclude]
            params["r"] = " & ".join(parts)
            return [literal_column("catalog_images.search").op("@@")(
                func.to_tsquery(literal_column("'simple'"), _P("r")))]
        out: list[Any] = []
        fts_ids = select(T_FTS.c.rowid).select_from(T_FTS)
        if terms.include:
            params["ri"] = f"{TEXT_COLUMNS} : (" + " ".join(
                self._fts_phrase(terms, i, t) for i, t in enumerate(terms.include)) + ")"
            # a word in few rows: the set of its rows (tier one then reads only those); a word
            # in many ("server"): row by row, as tier one reads rows in rank order and stops
            matches = fts_ids.where(text("catalog_images_fts MATCH :ri"))
            many = c.execute(select(func.count()).select_from(matches.limit(RESIDUAL_SET_MAX).subquery()),
                             {"ri": params["ri"]}).scalar_one() >= RESIDUAL_SET_MAX
            out.append(exists(matches.where(T_FTS.c.rowid == T_IMG.c.id)) if many else T_IMG.c.id.in_(matches))
        if terms.exclude:
            params["rx"] = f"{TEXT_COLUMNS} : (" + " OR ".join(
                self._fts_phrase(terms, -1, t) for t in terms.exclude) + ")"
            # row by row (a lookup of that rowid in the index): tier one reads few rows, while
            # an excluded word may be in a large part of the catalog ("-arm64")
            out.append(~exists(select(literal_column("1")).select_from(T_FTS).where(
                text("catalog_images_fts MATCH :rx"), T_FTS.c.rowid == T_IMG.c.id)))
        return out

    @staticmethod
    def _os_condition(m: OsMatch) -> Any:
        cond = T_IMG.c.os_family == m.family
        if m.version is not None:
            # "9" is 9 or 9.x (the full-text index matches the word 9 in "9.3" too). Normalised
            # versions are digits and dots, so [v, v + "/") is exactly v and v.x ("/" follows
            # "." and precedes the digits): one index range
            cond = and_(cond, T_IMG.c.os_version >= m.version, T_IMG.c.os_version < m.version + "/")
        return cond

    def _image_select(self, f: ImageFilters) -> Any:
        cols = [T_IMG.c[c] for c in ("connection", "provider", "region", "image_id", "name", "os_family",
                                     "os_version", "arch", "platform", "distribution", "synced_at", "gone_at")]
        q = select(*cols)
        for col, value in (("arch", f.arch), ("os_family", f.os_family), ("os_version", f.os_version),
                           ("provider", f.provider), ("region", f.region), ("connection", f.connection)):
            if value is not None:
                q = q.where(T_IMG.c[col] == value)
        if not f.include_gone:
            q = q.where(T_IMG.c.gone_at.is_(None))
        return q

    def search_images(self, f: ImageFilters, limit: int) -> list[dict[str, Any]]:
        """Rows matching the filters and keywords, best first, in two tiers.

        1. When the query names an OS family (and version): the rows whose normalised family and
           version are those (every one of them matches the keywords too), in the static order
           of ``rank_key`` — shortest name, then newest build date — read from the B-tree
           index in that order, the query's other words as full-text lookups.
        2. Only if they are fewer than ``limit``: the other keyword matches, ranked by bm25 /
           ts_rank among at most :data:`RANK_CANDIDATES` of them (see :meth:`_ranked`).

        Ranking every keyword match was what made a search cost grow with the catalog
        ("ubuntu" is ~30 % of it); now a search reads a bounded number of rows."""
        where_order = [T_IMG.c.provider, T_IMG.c.region, T_IMG.c.name]
        with self.store._tx() as c:
            if f.terms is None:
                q = self._image_select(f).order_by(*where_order).limit(limit)
                return [_timed(r) for r in c.execute(q).mappings()]
            out: list[dict[str, Any]] = []
            params: dict[str, Any] = {}
            if f.os_match is not None:
                q = self._image_select(f).where(self._os_condition(f.os_match))
                if f.os_match.residual is not None:
                    q = q.where(*self._residual(c, f.os_match.residual, params))
                q = q.order_by(T_IMG.c.rank_key, T_IMG.c.name, T_IMG.c.provider, T_IMG.c.region)
                out = [_timed(r) for r in c.execute(q.limit(limit), params).mappings()]
                if len(out) >= limit:
                    return out
            where, rank, params["q"] = self._match(f.terms, self._facets(f))
            q = self._image_select(f).where(where)
            if f.os_match is not None:
                q = q.where(not_(self._os_condition(f.os_match)))
            return out + self._ranked(c, q, rank, params, where_order, limit - len(out))

    def _ranked(self, c: Any, q: Any, rank: Any, params: dict[str, Any], then: list[Any], n: int
                ) -> list[dict[str, Any]]:
        """The ``n`` best rows of ``q`` (keyword matches) by rank, ranking at most
        max(RANK_CANDIDATES, n) matches.

        SQLite: the full-text index yields matches in rowid order and stops at the K-th newest;
        only rows from there on are joined, filtered and ranked. Filters the index does not
        hold (gone, os=...) may leave fewer than ``n`` of them: then all matches are ranked.
        PostgreSQL: the candidates are the first K matching rows (filters included) the plan
        yields — a LIMIT without an order, so the scan stops there —, then ranked."""
        k = max(RANK_CANDIDATES, n)
        if self.is_sqlite:
            floor = c.execute(text("SELECT rowid FROM catalog_images_fts WHERE catalog_images_fts MATCH :q "
                                   "ORDER BY rowid DESC LIMIT 1 OFFSET :k"), {"q": params["q"], "k": k - 1}).scalar()
            q = q.select_from(T_FTS.join(T_IMG, T_IMG.c.id == T_FTS.c.rowid)).order_by(rank, *then).limit(n)
            if floor is not None:
                rows = [_timed(r) for r in c.execute(q.where(T_FTS.c.rowid >= floor), params).mappings()]
                if len(rows) == n:
                    return rows
            return [_timed(r) for r in c.execute(q, params).mappings()]
        inner = q.add_columns(literal_column("catalog_images.search").label("search")).limit(k).subquery()
        query = func.to_tsquery(literal_column("'simple'"), _P("q"))
        q = select(*(inner.c[col.name] for col in q.selected_columns)).order_by(
            -func.ts_rank(inner.c.search, query), *(inner.c[col.name] for col in then)).limit(n)
        return [_timed(r) for r in c.execute(q, params).mappings()]

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


__all__ = ["CatalogStore", "ImageFilters", "OsMatch", "SpecFilters", "SyncCounts", "Terms", "content_hash"]
