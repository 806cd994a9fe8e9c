"""Catalog search: keyword syntax, filters, sorting, freshness, and bad filters refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import mcinfra
from mcinfra import InvalidRequest
from mcinfra.catalog.search import parse_query


@pytest.fixture
def synced(infra: mcinfra.Infra) -> Iterator[mcinfra.Infra]:
    infra.catalog.sync(regions=["default", "mercury"])
    yield infra


def ids(rows: Any) -> list[str]:
    return [r.id for r in rows]


def test_keywords_phrases_prefixes_and_exclusions(synced: mcinfra.Infra) -> None:
    images = synced.catalog.images
    assert set(ids(images.search("ubuntu 22.04", region="default"))) == {
        "ubuntu-22.04", "ubuntu-22.04-arm64", "cuda-ubuntu-22.04"}
    # the best match first: the plain image ranks above the CUDA one
    assert ids(images.search("ubuntu 22.04", region="default", arch="x86_64")) == ["ubuntu-22.04",
                                                                                   "cuda-ubuntu-22.04"]
    assert ids(images.search("ubuntu 22.04 -cuda", region="default", arch="x86_64")) == ["ubuntu-22.04"]
    assert set(ids(images.search("alma*", region="default"))) == {"almalinux-9"}
    assert set(ids(images.search('"amazon linux" 2023', region="default"))) == {
        "amazon-linux-2023", "amazon-linux-2023-arm64"}
    assert ids(images.search("UBUNTU 24.04", region="mercury", arch="aarch64")) == ["ubuntu-24.04-arm64"]
    assert images.search("no-such-os", region="default") == []


def test_filters_and_rows(synced: mcinfra.Infra) -> None:
    rows = synced.catalog.images.search(os="windows 2022", provider="mock", connection="m1")
    assert {(r.region, r.id, r.os_family, r.os_version) for r in rows} == {
        ("default", "windows-2022", "windows", "2022"), ("mercury", "windows-2022", "windows", "2022")}
    row = rows[0]
    assert (row.provider, row.connection, row.kind) == ("mock", "m1", "image")
    assert rows.oldest_synced_at is not None and 0 <= (rows.age_s or 0) < 600
    assert len(synced.catalog.images.search(limit=3)) == 3
    assert synced.catalog.images.search(os="debian", region="default", arch="arm64")[0].id == "debian-12-arm64"


def test_spec_ranges_gpus_prices_and_sorting(synced: mcinfra.Infra) -> None:
    specs = synced.catalog.specs
    rows = specs.search(vcpus=(8, 8), memory_gb=(32, None), region="default", sort="price")
    assert ids(rows) == ["m5.2xlarge", "p3.2xlarge"]
    assert rows[0].price == pytest.approx(0.384) and rows[0].currency == "USD"
    assert (rows[0].original_price, rows[0].original_currency, rows[0].price_source) == (0.384, "USD", "mock-seed")
    assert ids(specs.search(gpu="a100", region="default")) == ["p4d.24xlarge"]
    assert specs.search(gpu="A100", region="default")[0].gpu_count == 8
    assert set(ids(specs.search(gpu=True, region="default"))) == {
        "g4dn.xlarge", "g5.xlarge", "p3.2xlarge", "p3.8xlarge", "p4d.24xlarge"}
    assert "g4dn.xlarge" not in ids(specs.search(gpu=False, region="default"))
    assert ids(specs.search(gpu_count=(4, None), region="default", sort="vcpus")) == ["p3.8xlarge", "p4d.24xlarge"]
    cheap = specs.search(max_price=0.01, region="default")
    assert ids(cheap) == ["t2.nano", "t4g.micro"]
    assert ids(specs.search(arch="arm64", region="default", sort="name")) == ["a1.large", "t4g.micro"]
    by_memory = specs.search(region="default", sort="memory", limit=2)
    assert [r.memory_gb for r in by_memory] == [0.5, 1.0]


@pytest.mark.parametrize(("call", "kwargs", "field"), [
    ("specs", {"vcpus": (-1, 2)}, "vcpus"),
    ("specs", {"vcpus": (8, 4)}, "vcpus"),
    ("specs", {"vcpus": 2.5}, "vcpus"),
    ("specs", {"vcpus": (1, 2, 3)}, "vcpus"),
    ("specs", {"memory_gb": (32, 16)}, "memory_gb"),
    ("specs", {"memory_gb": "lots"}, "memory_gb"),
    ("specs", {"gpu_count": (True, None)}, "gpu_count"),
    ("specs", {"sort": "cheap"}, "sort"),
    ("specs", {"max_price": -1}, "max_price"),
    ("specs", {"max_price": float("nan")}, "max_price"),
    ("specs", {"gpu": 5}, "gpu"),
    ("specs", {"provider": "nope"}, "provider"),
    ("specs", {"limit": 0}, "limit"),
    ("specs", {"max_age": 0}, "max_age"),
    ("images", {"arch": "sparc"}, "arch"),
    ("images", {"provider": 3}, "provider"),
    ("images", {"region": ""}, "region"),
    ("images", {"connection": "bad name!"}, "connection"),
    ("images", {"limit": 10**9}, "limit"),
    ("images", {"include_gone": 1}, "include_gone"),
    ("images", {"query": 22.04}, "query"),
    ("images", {"query": "-cuda"}, "query"),
    ("images", {"query": '"unclosed'}, "query"),
    ("images", {"os": ""}, "os"),
])
def test_bad_filters_are_refused(synced: mcinfra.Infra, call: str, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        getattr(synced.catalog, call).search(**kwargs)
    assert info.value.field == field


def test_search_before_any_sync_is_empty_and_says_so(infra: mcinfra.Infra) -> None:
    rows = infra.catalog.images.search("ubuntu")
    assert rows == [] and rows.oldest_synced_at is None and rows.age_s is None
    # max_age with nothing synced syncs the matching connections first
    assert ids(infra.catalog.images.search("fedora", max_age=60)) == ["fedora-40"]


def test_parse_query() -> None:
    t = parse_query('ubuntu 22.04 "amazon linux" alma* -cuda')
    assert t is not None
    assert t.include == (("ubuntu",), ("22", "04"), ("amazon", "linux"), ("alma",))
    assert t.exclude == (("cuda",),) and t.prefix == frozenset({3})
    assert parse_query("") is None and parse_query(None) is None and parse_query("  ... ") is None
