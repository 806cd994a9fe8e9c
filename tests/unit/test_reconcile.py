"""A crash between the CSP call and the store write is recovered by reconcile()."""

from __future__ import annotations

import pytest

import mcinfra
from mcinfra import SubnetReq
from mcinfra.drivers.mock import reset


@pytest.fixture
def infra():
    reset("venus")
    with mcinfra.Infra("sqlite:///:memory:") as i:
        i.regions.add("r", provider="mock", region="venus")
        i.connections.add("c", provider="mock", region="r")
        yield i
    reset("venus")


def crash_after_csp_call(monkeypatch: pytest.MonkeyPatch, infra: mcinfra.Infra) -> None:
    """Make the store write after the CSP call fail the way a killed process would: never."""
    class Crash(BaseException):
        pass

    def finish(*a, **k):
        raise Crash

    monkeypatch.setattr(infra.store, "finish", finish)
    monkeypatch.setattr(infra.store, "drop", lambda *a, **k: None)  # a dead process cleans nothing up
    return Crash


def test_pending_row_with_csp_resource_is_finished(infra, monkeypatch) -> None:
    cloud = infra.connect("c")
    crash = crash_after_csp_call(monkeypatch, infra)
    handler = cloud.handlers.vpc
    monkeypatch.setattr(handler, "delete", lambda iid: None)  # the rollback delete never ran either
    with pytest.raises(crash):
        cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24")])
    monkeypatch.undo()
    assert [r.state for r in infra.store.list("c", "vpc")] == ["pending"]
    with pytest.raises(mcinfra.NotFound, match="still being created"):
        cloud.vpcs.get("vpc-01")
    report = infra.reconcile()
    assert report.finished == ["c/vpc/vpc-01"] and report.rolled_back == []
    vpc = cloud.vpcs.get("vpc-01")
    assert [s.iid.name_id for s in vpc.subnets] == ["sn"]
    assert cloud.vpcs.list_all().only_csp == []


def test_pending_row_without_csp_resource_is_rolled_back(infra) -> None:
    infra.connect("c")
    infra.store.reserve("c", "security_group", "sg-lost", "sg-lost-abcdefgh")
    report = infra.reconcile()
    assert report.rolled_back == ["c/security_group/sg-lost"]
    assert infra.store.list("c", state="pending") == []


def test_store_failure_after_csp_call_takes_the_resource_back(infra, monkeypatch) -> None:
    cloud = infra.connect("c")

    def finish(*a, **k):
        raise mcinfra.StoreError("disk full")

    monkeypatch.setattr(infra.store, "finish", finish)
    with pytest.raises(mcinfra.StoreError, match="disk full"):
        cloud.keypairs.create("key-01")
    monkeypatch.undo()
    assert infra.store.list("c") == []
    assert cloud.keypairs.list_all().only_csp == []  # deleted at the CSP, not leaked


def test_failed_take_back_keeps_the_pending_row_for_reconcile(infra, monkeypatch) -> None:
    cloud = infra.connect("c")
    monkeypatch.setattr(infra.store, "finish", lambda *a, **k: (_ for _ in ()).throw(mcinfra.StoreError("gone")))
    handler = cloud.handlers.keypair

    def refuse(iid):
        raise mcinfra.CloudError("mock", "Throttled", "try later")

    monkeypatch.setattr(handler, "delete", refuse)
    with pytest.raises(mcinfra.StoreError, match="gone"):  # the first failure, not the undo's
        cloud.keypairs.create("key-01")
    monkeypatch.undo()
    assert [r.state for r in infra.store.list("c")] == ["pending"]
    assert infra.reconcile().finished == ["c/keypair/key-01"]
    assert cloud.keypairs.get("key-01").iid.name_id == "key-01"


def test_store_failure_after_add_subnet_takes_the_subnet_back(infra, monkeypatch) -> None:
    """Subnets go through the same create path as every kind: a failed store write after the CSP
    made the subnet removes it at the CSP and leaves no row."""
    cloud = infra.connect("c")
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24")])

    def finish(*a, **k):
        raise mcinfra.StoreError("disk full")

    monkeypatch.setattr(infra.store, "finish", finish)
    with pytest.raises(mcinfra.StoreError, match="disk full"):
        cloud.vpcs.add_subnet("vpc-01", SubnetReq(name="sn-2", cidr="10.0.2.0/24"))
    monkeypatch.undo()
    assert [r.name_id for r in infra.store.list("c", "subnet")] == ["sn-1"]
    assert [s.iid.name_id for s in cloud.vpcs.get("vpc-01").subnets] == ["sn-1"]  # not left at the CSP
    # the name and CIDR are free again
    cloud.vpcs.add_subnet("vpc-01", SubnetReq(name="sn-2", cidr="10.0.2.0/24"))


def test_crash_after_add_subnet_is_finished_by_reconcile(infra, monkeypatch) -> None:
    cloud = infra.connect("c")
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
    crash = crash_after_csp_call(monkeypatch, infra)
    monkeypatch.setattr(cloud.handlers.vpc, "remove_subnet", lambda vpc, sn: None)  # the dead process undid nothing
    with pytest.raises(crash):
        cloud.vpcs.add_subnet("vpc-01", SubnetReq(name="sn-2", cidr="10.0.2.0/24"))
    monkeypatch.undo()
    assert [r.state for r in infra.store.list("c", "subnet")] == ["pending"]
    report = infra.reconcile()
    assert report.finished == ["c/subnet/vpc-01/sn-2"]
    assert [s.iid.name_id for s in cloud.vpcs.get("vpc-01").subnets] == ["sn-2"]
