"""Catalog search ranking on realistic image names: the OS family/version tier, the bounded
full-text tier, exclusions in both, and the full-text index kept exact through inserts,
rewrites and gone rows (SQLite FTS5 integrity check)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import mcinfra
from mcinfra.catalog.sync import image_row
from mcinfra.core.models import IID, ImageInfo
from mcinfra.store import catalog_store

AWS = "ubuntu/images/{flavour}/ubuntu-{code}-{version}-{arch}-server-{date}"
ROWS = [
    *(AWS.format(flavour=f, code=c, version=v, arch=a, date=d)
      for f in ("hvm-ssd", "hvm-ssd-gp3", "minimal/hvm-ssd")
      for c, v in (("jammy", "22.04"), ("focal", "20.04"))
      for a in ("amd64", "arm64")
      for d in ("20240301", "20231115", "20240612")),
    "bitnami-wordpress-6.4.3-r0-ubuntu-22-04-amd64",  # the words, but no normalised 22.04
    "RHEL-9.3.0_HVM-20240117-x86_64-49-Hourly2-GP3",
    "RHEL-9.4.0_HVM-20240605-x86_64-82-Hourly2-GP3",
    "RHEL-8.9.0_HVM-20240213-x86_64-3-Hourly2-GP3",  # matches "rhel 9" as words only
]


def rows_of(names: list[str]) -> list[dict[str, Any]]:
    return [image_row(ImageInfo(iid=IID(name_id=n, system_id=f"ami-{i:08x}"), name=n, os_architecture="",
                                os_platform="Linux/UNIX", os_distribution="")) for i, n in enumerate(names)]


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[mcinfra.Infra]:
    # a file store: the bulk path's WAL setting applies to files only
    with mcinfra.Infra(f"sqlite:///{tmp_path / 'store.db'}") as infra:
        now = datetime.now(UTC)
        for region in ("us-east-1", "Weird.Region_2"):
            infra.catalog.store.sync_rows("images", "aws-main", "aws", region, rows_of(ROWS), now)
        yield infra


def names(rows: Any) -> list[str]:
    return [r.name for r in rows]


def test_exact_os_family_and_version_first_plain_and_newest_before_variants(catalog: mcinfra.Infra) -> None:
    rows = catalog.catalog.images.search("ubuntu 22.04", region="us-east-1", arch="x86_64")
    versions = [r.os_version for r in rows]
    assert "20.04" not in versions
    # every normalised 22.04 image before the one that only has the words
    assert versions == ["22.04"] * 9 + [""]
    assert names(rows)[-1].startswith("bitnami-wordpress")
    # the plain image first, newest build first; its gp3 and minimal variants after
    assert names(rows)[:3] == [AWS.format(flavour="hvm-ssd", code="jammy", version="22.04", arch="amd64", date=d)
                               for d in ("20240612", "20240301", "20231115")]
    older = catalog.catalog.images.search("ubuntu 20.04", region="us-east-1", arch="x86_64")
    assert {r.os_version for r in older} == {"20.04"} and len(older) == 9


@pytest.mark.parametrize("set_max", [catalog_store.RESIDUAL_SET_MAX, 1])
def test_exclusions_apply_to_both_tiers(catalog: mcinfra.Infra, monkeypatch: pytest.MonkeyPatch,
                                        set_max: int) -> None:
    # the other words of a query as a set of rows (few matches) or row by row (many: set_max 1)
    monkeypatch.setattr(catalog_store, "RESIDUAL_SET_MAX", set_max)
    images = catalog.catalog.images
    rows = images.search("ubuntu 22.04 -minimal -wordpress", region="us-east-1", arch="x86_64")
    assert len(rows) == 6 and not [n for n in names(rows) if "minimal" in n or "wordpress" in n]
    assert names(images.search("ubuntu 22.04 gp3 -arm64", region="us-east-1")) == [
        AWS.format(flavour="hvm-ssd-gp3", code="jammy", version="22.04", arch="amd64", date=d)
        for d in ("20240612", "20240301", "20231115")]


def test_a_major_version_matches_its_minor_versions_first(catalog: mcinfra.Infra) -> None:
    rows = catalog.catalog.images.search("rhel 9", region="us-east-1")
    assert [r.os_version for r in rows] == ["9.4", "9.3", "8.9"]


def test_the_full_text_tier_ranks_a_bounded_candidate_set_and_still_fills_the_limit(
        catalog: mcinfra.Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catalog_store, "RANK_CANDIDATES", 3)
    images = catalog.catalog.images
    # no OS family in the query: full text only; more matches than candidates
    rows = images.search("server", region="us-east-1", limit=20)
    assert len(rows) == 20 and all("server" in n for n in names(rows))
    # a filter the index does not hold (os=) still finds every match, not just the candidates'
    rows = images.search("server", os="ubuntu 20.04", region="us-east-1", limit=10)
    assert len(rows) == 10 and {r.os_version for r in rows} == {"20.04"}
    # a facet value with upper case and punctuation
    assert len(images.search("server", region="Weird.Region_2", arch="arm64", limit=100)) == 18


def test_the_full_text_index_stays_exact_through_rewrites_and_gone_rows(catalog: mcinfra.Infra) -> None:
    store = catalog.catalog.store
    changed = rows_of(ROWS)[3:]  # three dropped (gone), the rest with a new distribution
    for r in changed[:5]:
        r["distribution"] = "Canonical Ubuntu Pro"
    store.sync_rows("images", "aws-main", "aws", "us-east-1", changed, datetime.now(UTC))
    with catalog.store.engine.connect() as c:
        # 'integrity-check' with rank 1 also compares the index with its content (the view)
        c.execute(text("INSERT INTO catalog_images_fts(catalog_images_fts, rank) VALUES ('integrity-check', 1)"))
    assert len(catalog.catalog.images.search("pro canonical", region="us-east-1")) == 5
    assert len(catalog.catalog.images.search("ubuntu", region="us-east-1", limit=100)) == len(ROWS) - 6
