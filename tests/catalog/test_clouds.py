"""Catalog sync and search through real drivers: AWS on moto's server, GCP on its loopback
fake, and the twin (root only)."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator

import pytest

import mcinfra


@pytest.fixture
def store() -> Iterator[mcinfra.Infra]:
    with mcinfra.Infra("sqlite:///:memory:") as i:
        yield i


def _add(infra: mcinfra.Infra, provider: str, keys: dict[str, str], region: str, zone: str,
         options: dict[str, object]) -> None:
    if keys:
        infra.credentials.add("cred", provider=provider, keys=keys)
    infra.regions.add("reg", provider=provider, region=region, zone=zone)
    infra.connections.add("c1", credential="cred" if keys else None, region="reg", options=options)


def _price_status(infra: mcinfra.Infra) -> str:
    """What the prices partition must end as: the price capability is optional per driver."""
    return "ok" if "price" in infra.connect("c1").capabilities.kinds else "unsupported"


def _check(infra: mcinfra.Infra, provider: str, region: str, *, prices: str) -> None:
    report = infra.catalog.sync(["c1"])
    st = {p.kind: p.status for p in report.partitions}
    assert st["images"] == st["specs"] == "ok", report.errors
    assert st["prices"] == prices, report.errors
    assert all(p.region == region for p in report.partitions)
    images = infra.catalog.images.search(provider=provider, limit=1000)
    assert images and all(r.provider == provider and r.connection == "c1" for r in images)
    specs = infra.catalog.specs.search(provider=provider, sort="vcpus", limit=1000)
    assert specs and all(s.vcpus >= 1 and s.memory_gb > 0 for s in specs)
    assert infra.catalog.sync(["c1"]).written == 0


def test_aws_on_moto(store: mcinfra.Infra) -> None:
    from tests.conformance.targets import aws as aws_target

    url = aws_target.server_url()
    t = aws_target.make_target(url)
    _add(store, "aws", t.credentials, t.region or "", t.zone or "", t.options)
    _check(store, "aws", "us-east-1", prices="ok")  # the Price List fake (tests/fakes/aws_pricing)
    amazon = store.catalog.images.search("amazon linux", provider="aws")
    assert amazon and all(r.os_family == "amazon-linux" for r in amazon[:5])
    assert store.catalog.specs.search(provider="aws", vcpus=(1, 1), memory_gb=(1, 1), limit=5)
    # prices are synced and searchable: the cheapest specs first, each with the Price List's figure
    from tests.fakes.aws_pricing import expected_prices

    published = expected_prices("us-east-1")
    cheapest = store.catalog.specs.search(provider="aws", sort="price", limit=5)
    assert [r.price for r in cheapest] == sorted(r.price for r in cheapest)
    assert cheapest and all(r.price == pytest.approx(published[r.id]) for r in cheapest)
    assert all(r.currency == "USD" and r.original_currency == "USD" and r.price_source for r in cheapest)
    assert cheapest[0].price == pytest.approx(min(published[r.id] for r in store.catalog.specs.search(
        provider="aws", limit=1000) if r.id in published))
    t3_micro = store.catalog.specs.search(provider="aws", vcpus=2, memory_gb=1, arch="x86_64",
                                          max_price=0.011)
    assert [(r.id, r.price) for r in t3_micro] == [("t3.micro", pytest.approx(published["t3.micro"]))]


def test_gcp_on_its_fake(store: mcinfra.Infra) -> None:
    pytest.importorskip("google.cloud.compute_v1", reason="the gcp extra is not installed")
    from tests.fakes.gcp import GcpFake

    with GcpFake() as fake:
        _add(store, "gcp", {"project_id": "mcinfra-catalog"}, "us-central1", "us-central1-a",
             {"api_endpoint": fake.url, "anonymous": True, "retry_base": 0.001})
        _check(store, "gcp", "us-central1", prices=_price_status(store))
        assert store.catalog.images.search("debian 12", provider="gcp")
        assert not fake.schema_errors


def test_twin(store: mcinfra.Infra) -> None:
    from mcinfra.drivers.twin.netns import unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    region = f"cat-{uuid.uuid4().hex[:8]}"
    state_dir = tempfile.mkdtemp(prefix="mcinfra-twin-catalog-")
    try:
        _add(store, "twin", {}, region, f"{region}-a", {"state_dir": state_dir})
        _check(store, "twin", region, prices="ok")
        assert [r.id for r in store.catalog.images.search("ubuntu 22.04", provider="twin")] == ["ubuntu-22.04"]
    finally:
        store.close()
        from mcinfra.drivers.twin.cleanup import cleanup_region

        cleanup_region(region, __import__("pathlib").Path(state_dir))
        shutil.rmtree(state_dir, ignore_errors=True)
