"""The optional price capability: a driver that declares ``"price"`` in ``Capabilities.kinds``
prices its specs; one that does not must refuse with ``Unsupported`` (the suite's Unsupported
rule, see conftest.py), before any cloud call."""

from __future__ import annotations

import re

import pytest

import mcinfra
from tests.conformance.conftest import EXPECT_UNSUPPORTED

ISO_4217 = re.compile(r"^[A-Z]{3}$")


@pytest.fixture
def priced(cloud: mcinfra.Connection, target, request: pytest.FixtureRequest) -> bool:
    """Whether the target's driver declares prices; if not, the scenario must raise Unsupported."""
    if "price" in cloud.capabilities.kinds:
        return True
    reason = f"driver '{target.provider}' does not declare the 'price' capability (docs/driver-guide.md)"
    request.node.stash[EXPECT_UNSUPPORTED] = (target.name, reason)
    return False


def test_prices(cloud: mcinfra.Connection, priced: bool) -> None:
    prices = cloud.prices.list()  # Unsupported here when the driver has no price capability
    assert priced, "a driver without the 'price' capability answered cloud.prices.list()"
    assert prices, "a driver with the 'price' capability priced no spec"
    specs = {s.name for s in cloud.specs.list()}
    for row in prices:
        assert row.spec in specs, f"{row.spec} is priced but not in cloud.specs.list()"
        assert row.price_per_hour >= 0 and ISO_4217.match(row.currency), row
        assert row.source, row
    assert len({row.spec for row in prices}) == len(prices), "one row per spec"
    first = prices[0]
    assert cloud.prices.get(first.spec) == first
    with pytest.raises(mcinfra.NotFound):
        cloud.prices.get("no-such-spec-xyz")
