"""Catalog search: the keyword syntax, filter validation, and the two searchable catalogs.

Keyword syntax (``images.search``): words are ANDed and matched case-insensitively against the
image name, description and normalised OS family/version; ``"quoted words"`` must appear in
that order; ``word*`` matches a prefix; ``-word`` excludes. A term like ``22.04`` is the phrase
``22 04`` (punctuation splits words the same way in the index and the query). A query that
names an OS family (and version) ranks that family's normalised rows first (:func:`os_match`;
the tiers are in :meth:`mcinfra.store.catalog_store.CatalogStore.search_images`).
"""

from __future__ import annotations

import math
import re
import shlex
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from mcinfra.catalog.models import CatalogResult, ImageRow, SpecRow
from mcinfra.catalog.normalize import FAMILIES
from mcinfra.core.errors import InvalidRequest
from mcinfra.store.catalog_store import ImageFilters, OsMatch, SpecFilters, Terms

if TYPE_CHECKING:
    from mcinfra.catalog import Catalog

ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64", "arm64": "arm64", "aarch64": "arm64",
          "i386": "i386"}
SORTS = ("price", "vcpus", "memory", "name")
MAX_LIMIT = 10_000
_WORD = re.compile(r"[a-z0-9]+")
#: query term (its words) -> the normalised OS family it names: the family's own words, so that
#: a row of that family always matches the term in the full-text index too
FAMILY_TERMS = {tuple(_WORD.findall(family)): family for family, _ in FAMILIES}


def parse_query(query: Any) -> Terms | None:
    """The keyword query as terms (None: no keywords)."""
    if query is None:
        return None
    if not isinstance(query, str):
        raise InvalidRequest(f"query must be a string, not {query!r}", field="query")
    try:
        tokens = shlex.split(query)
    except ValueError as exc:
        raise InvalidRequest(f"query {query!r}: {exc}", field="query") from None
    include: list[tuple[str, ...]] = []
    exclude: list[tuple[str, ...]] = []
    prefix: set[int] = set()
    for tok in tokens:
        negate = tok.startswith("-") and len(tok) > 1
        body = tok[1:] if negate else tok
        words = tuple(_WORD.findall(body.lower()))
        if not words:
            continue
        if negate:
            exclude.append(words)
            continue
        if body.endswith("*"):
            prefix.add(len(include))
        include.append(words)
    if not include:
        if exclude:
            raise InvalidRequest("a query needs at least one word to look for besides -excluded ones", field="query")
        return None
    return Terms(tuple(include), tuple(exclude), frozenset(prefix))


def os_match(terms: Terms | None) -> OsMatch | None:
    """The OS family (and version) a keyword query names, for the structured first tier of the
    ranking: ``ubuntu 22.04`` -> family ubuntu, version 22.04, no other words; ``rhel 9 -sap`` ->
    rhel, 9 (9 or 9.x), ``-sap`` left to the full-text index. The first family term and the
    first all-digit term of the query are taken; prefix terms (``22*``) stay full-text words.
    None when the query names no family."""
    if terms is None:
        return None
    family_at = next((i for i, t in enumerate(terms.include)
                      if t in FAMILY_TERMS and i not in terms.prefix), None)
    if family_at is None:
        return None
    version_at = next((i for i, t in enumerate(terms.include)
                       if i != family_at and i not in terms.prefix and all(w.isdigit() for w in t)), None)
    rest = [i for i in range(len(terms.include)) if i not in (family_at, version_at)]
    residual = Terms(tuple(terms.include[i] for i in rest), terms.exclude,
                     frozenset(rest.index(i) for i in terms.prefix if i in rest))
    version = ".".join(terms.include[version_at]) if version_at is not None else None
    return OsMatch(FAMILY_TERMS[terms.include[family_at]], version,
                   residual if residual.include or residual.exclude else None)


# ------------------------------------------------------------------ validators
def text_filter(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"{field} must be a non-empty string or None, not {value!r}", field=field)
    return value.strip()


def arch_filter(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value.lower() not in ARCHES:
        raise InvalidRequest(f"arch must be one of {sorted(set(ARCHES.values()))} or None, not {value!r}",
                             field="arch")
    return ARCHES[value.lower()]


def os_filter(value: Any) -> tuple[str | None, str | None]:
    """``"ubuntu"`` -> ("ubuntu", None); ``"ubuntu 22.04"`` or ``"ubuntu:22.04"`` -> ("ubuntu", "22.04")."""
    text = text_filter(value, "os")
    if text is None:
        return None, None
    parts = re.split(r"[\s:]+", text.lower(), maxsplit=1)
    family = parts[0]
    version = parts[1] if len(parts) > 1 else None
    return family, version


def number(value: Any, field: str, *, integer: bool = False) -> float | None:
    if value is None:
        return None
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or (integer and not isinstance(value, int)) or value < 0:
        what = "a whole number" if integer else "a number"
        raise InvalidRequest(f"{field} must be {what} >= 0 or None, not {value!r}", field=field)
    return value


def number_range(value: Any, field: str, *, integer: bool = False) -> tuple[Any, Any]:
    """None, a number (exactly that) or (min, max) with None for an open end."""
    if value is None:
        return None, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        n = number(value, field, integer=integer)
        return n, n
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidRequest(f"{field} must be a number, (min, max) or None, not {value!r}", field=field)
    lo, hi = number(value[0], field, integer=integer), number(value[1], field, integer=integer)
    if lo is not None and hi is not None and lo > hi:
        raise InvalidRequest(f"{field}: min {lo} is above max {hi}", field=field)
    return lo, hi


def limit_of(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_LIMIT:
        raise InvalidRequest(f"limit must be an integer from 1 to {MAX_LIMIT}, not {value!r}", field="limit")
    return value


def max_age_of(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise InvalidRequest(f"max_age must be seconds > 0 (or a timedelta) or None, not {value!r}",
                             field="max_age")
    return float(value)


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest(f"{field} must be True or False, not {value!r}", field=field)
    return value


# ------------------------------------------------------------------ the catalogs
class ImageCatalog:
    """``infra.catalog.images``: search the synced images of every connection."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def search(self, query: str | None = None, *, arch: str | None = None, provider: str | None = None,
               region: str | None = None, connection: str | None = None, os: str | None = None,
               limit: int = 50, include_gone: bool = False, max_age: float | timedelta | None = None
               ) -> CatalogResult:
        """Images matching ``query`` (see the module doc) and the filters, best match first."""
        cat = self._catalog
        family, version = os_filter(os)
        terms = parse_query(query)
        f = ImageFilters(terms=terms, os_match=os_match(terms), arch=arch_filter(arch), os_family=family,
                         os_version=version,
                         provider=cat.provider_filter(provider), region=text_filter(region, "region"),
                         connection=cat.connection_filter(connection),
                         include_gone=flag(include_gone, "include_gone"))
        limit, age = limit_of(limit), max_age_of(max_age)
        if age is not None:
            cat.refresh(("images",), age, provider=f.provider, region=f.region, connection=f.connection)
        rows = cat.store.search_images(f, limit)
        synced = cat.synced_map(("images",), rows)
        out = [ImageRow(id=r["image_id"], **{k: r[k] for k in ("connection", "provider", "region", "name",
                                                               "os_family", "os_version", "arch", "platform",
                                                               "distribution", "gone_at")},
                        synced_at=synced.get((r["connection"], r["region"], "images"), r["synced_at"]))
               for r in rows]
        return CatalogResult(out, oldest_synced_at=cat.store.oldest_synced(
            ("images",), provider=f.provider, region=f.region, connection=f.connection))


class SpecCatalog:
    """``infra.catalog.specs``: search the synced VM specs (with prices) of every connection."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def search(self, *, vcpus: Any = None, memory_gb: Any = None, gpu: str | bool | None = None,
               gpu_count: Any = None, arch: str | None = None, max_price: float | None = None,
               provider: str | None = None, region: str | None = None, connection: str | None = None,
               sort: str = "price", limit: int = 50, include_gone: bool = False,
               max_age: float | timedelta | None = None) -> CatalogResult:
        """Specs within the ranges (``vcpus=(8, 8)``, ``memory_gb=(32, None)``; a single number
        means exactly that), ``gpu`` (None: any; True: with a GPU; False: without; "A100": that
        model), ``max_price`` (USD per hour), sorted by ``sort`` (price|vcpus|memory|name)."""
        cat = self._catalog
        if gpu is not None and not isinstance(gpu, bool):
            gpu = text_filter(gpu, "gpu")
            gpu = gpu.upper() if gpu else gpu
        if not isinstance(sort, str) or sort not in SORTS:
            raise InvalidRequest(f"sort must be one of {SORTS}, not {sort!r}", field="sort")
        f = SpecFilters(vcpus=number_range(vcpus, "vcpus", integer=True),
                        memory_gb=number_range(memory_gb, "memory_gb"),
                        gpu=gpu, gpu_count=number_range(gpu_count, "gpu_count", integer=True),
                        arch=arch_filter(arch), max_price=number(max_price, "max_price"),
                        provider=cat.provider_filter(provider), region=text_filter(region, "region"),
                        connection=cat.connection_filter(connection), include_gone=flag(include_gone, "include_gone"))
        limit, age = limit_of(limit), max_age_of(max_age)
        kinds = ("specs", "prices")
        if age is not None:
            cat.refresh(kinds, age, provider=f.provider, region=f.region, connection=f.connection)
        rows = cat.store.search_specs(f, sort, limit)
        synced = cat.synced_map(("specs",), rows)
        out = [SpecRow(id=r["spec_id"], name=r["spec_id"],
                       **{k: r[k] for k in ("connection", "provider", "region", "vcpus", "memory_gb", "arch", "gpu",
                                            "gpu_count", "price", "original_price", "gone_at")},
                       original_currency=r["original_currency"] or ("USD" if r["price"] is not None else None),
                       price_source=r["price_source"] or ("listing" if r["price"] is not None else ""),
                       synced_at=synced.get((r["connection"], r["region"], "specs"), r["synced_at"]))
               for r in rows]
        for i, row in enumerate(out):
            if row.original_price is None and row.price is not None:
                out[i] = row.model_copy(update={"original_price": row.price})
        return CatalogResult(out, oldest_synced_at=cat.store.oldest_synced(
            ("specs",), provider=f.provider, region=f.region, connection=f.connection))
