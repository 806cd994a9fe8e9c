"""An NLB scope the driver does not declare is refused before anything is written or asked."""

from __future__ import annotations

import pytest

import mcinfra
from mcinfra.core.handlers import Capabilities


def test_default_capabilities_offer_only_regional_nlbs() -> None:
    assert Capabilities().nlb_scopes == frozenset({"REGION"})


def test_global_scope_is_unsupported_where_the_driver_lacks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from mcinfra.drivers.mock.driver import MockDriver

    monkeypatch.setattr(MockDriver, "capabilities", lambda self: Capabilities())
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.connections.add("m", provider="mock", options={"cloud_id": "nlb-scope"})
        cloud = infra.connect("m")
        cloud.vpcs.create("vpc", cidr="10.0.0.0/16", subnets=[mcinfra.SubnetReq(name="sn", cidr="10.0.1.0/24")])
        calls_before = len(infra.history(limit=1000))
        with pytest.raises(mcinfra.Unsupported, match="GLOBAL"):
            cloud.nlbs.create("nlb", vpc="vpc", listener={"protocol": "TCP", "port": 80}, scope="GLOBAL")
        assert len(infra.history(limit=1000)) == calls_before  # the cloud was never asked
        assert cloud.nlbs.list_all().mapped == []


def test_mock_offers_global_nlbs() -> None:
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.connections.add("m", provider="mock", options={"cloud_id": "nlb-scope-global"})
        cloud = infra.connect("m")
        cloud.vpcs.create("vpc", cidr="10.0.0.0/16", subnets=[mcinfra.SubnetReq(name="sn", cidr="10.0.1.0/24")])
        nlb = cloud.nlbs.create("nlb", vpc="vpc", listener={"protocol": "TCP", "port": 80}, scope="GLOBAL")
        assert nlb.scope == "GLOBAL"
