"""The price capability outside any cloud: the twin's documented table, and the kit's
ClientSession answering Unsupported for a driver that declares no price handler."""

from __future__ import annotations

import pytest

from mcinfra.core.errors import NotFound, Unsupported
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.kit import ClientSession
from mcinfra.drivers.twin import catalog as twin
from mcinfra.drivers.twin.driver import TwinDriver


def test_twin_prices_are_its_documented_table() -> None:
    rows = twin.TwinPriceHandler("twin-1").list()
    # docs/twin.md: vCPUs x 0.01 + GiB x 0.005 USD per hour
    assert {r.spec: r.price_per_hour for r in rows} == {
        "twin.nano": 0.0125, "twin.small": 0.02, "twin.medium": 0.04, "twin.large": 0.06}
    assert all(r.currency == "USD" and r.source == "twin-table" and r.region == "twin-1" for r in rows)
    assert [r.spec for r in rows] == list(twin.SPECS)
    assert twin.TwinPriceHandler("twin-2").get("twin.small").region == "twin-2"
    assert twin.find_spec("twin.large").price_per_hour == 0.06  # the spec says the same price
    with pytest.raises(NotFound):
        twin.TwinPriceHandler("twin-1").get("t2.micro")
    assert "price" in TwinDriver().capabilities().kinds


def test_a_client_session_without_prices_is_unsupported() -> None:
    class NoPrices(ClientSession):
        HANDLERS = {"specs": "mcinfra.drivers.twin.catalog:TwinSpecHandler"}

    with pytest.raises(Unsupported):
        NoPrices(SessionInfo(name="n", provider="x"), client=None).prices()
