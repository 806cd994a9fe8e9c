"""The choke point: the one retry policy counted at the fake, the error table through the SDK's real
exceptions, paging with a tiny page size, options, name rules, install/import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import mcinfra
from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.models import VPCReq
from mcinfra.drivers.azure.driver import AzureDriver, AzureSession
from mcinfra.drivers.azure.names import MAX_BY_KIND, check_name
from tests.drivers.azure.conftest import GROUP, Net, connect, iid
from tests.fakes.azure import AzureFake, validator

VNETS = r"/resourceGroups/rg-test/providers/Microsoft.Network/virtualNetworks$"


def _vnet_gets(fake: AzureFake) -> int:
    return len(fake.find("GET", VNETS))


# ------------------------------------------------------------------ retries
def test_throttled_read_is_retried_then_succeeds(cloud: AzureSession, fake: AzureFake) -> None:
    cloud.vpcs().list()
    fake.clear_requests()
    fake.inject("GET", VNETS, status=429, reason="TooManyRequests", message="slow down", times=2)
    assert cloud.vpcs().list() == []
    assert _vnet_gets(fake) == 3


def test_throttling_gives_up_after_the_policy_attempts(cloud: AzureSession, fake: AzureFake) -> None:
    cloud.vpcs().list()
    fake.clear_requests()
    fake.inject("GET", VNETS, status=429, reason="SubscriptionRequestsThrottled", times=50)
    with pytest.raises(CloudError) as err:
        cloud.vpcs().list()
    assert err.value.throttled and err.value.code == "SubscriptionRequestsThrottled"
    assert _vnet_gets(fake) == cloud.client.retry.attempts == 5  # the kit's default, no SDK retries on top
    fake.clear_faults()


def test_server_error_retried_only_when_idempotent(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    vm = cloud.vms().start(net.vm_req())
    fake.clear_requests()
    fake.inject("POST", r"/deallocate$", status=503, reason="ServiceUnavailable", times=3)
    with pytest.raises(CloudError) as err:
        cloud.vms().suspend(vm.iid)  # a POST action: the cloud may have acted, never repeated
    assert err.value.code == "ServiceUnavailable" and err.value.retryable
    assert len(fake.find("POST", r"/deallocate$")) == 1
    fake.clear_faults()
    fake.inject("GET", r"/virtualMachines/vm-1$", status=500, reason="InternalServerError", times=2)
    assert cloud.vms().get(vm.iid).iid.system_id == vm.iid.system_id  # a GET: tried again


def test_throttled_action_is_retried(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    vm = cloud.vms().start(net.vm_req())
    fake.clear_requests()
    fake.inject("POST", r"/deallocate$", status=429, reason="TooManyRequests", times=1)
    cloud.vms().suspend(vm.iid)  # refused without acting: safe to send again
    assert len(fake.find("POST", r"/deallocate$")) == 2


def test_retry_options_are_the_kits(fake: AzureFake) -> None:
    session = connect(fake, retry_attempts=2)
    assert session.client.retry.attempts == 2
    session.close()


# ------------------------------------------------------------------ the error table
ERRORS = [
    (404, "ResourceNotFound", NotFound),
    (404, "NotFound", NotFound),
    (404, "ResourceGroupNotFound", NotFound),
    (404, "PlatformImageNotFound", NotFound),
    (400, "InUseSubnetCannotBeDeleted", InUse),
    (400, "InUseNetworkSecurityGroupCannotBeDeleted", InUse),
    (400, "NicInUse", InUse),
    (400, "PublicIPAddressCannotBeDeleted", InUse),
    (409, "OperationNotAllowed", CloudError),
    (409, "Conflict", CloudError),
    (400, "InvalidParameter", CloudError),
    (429, "TooManyRequests", CloudError),
    (500, "InternalServerError", CloudError),
]


@pytest.mark.parametrize("status,code,expected", ERRORS)
def test_error_table(cloud: AzureSession, fake: AzureFake, status: int, code: str, expected: type) -> None:
    assert status in validator.error_codes()[code]  # only codes Azure documents, with their status
    fake.inject("GET", VNETS, status=status, reason=code, message="said no", times=50)
    with pytest.raises(McInfraError) as err:
        cloud.vpcs().list()
    fake.clear_faults()
    assert type(err.value) is expected
    assert code in str(err.value) and "said no" in str(err.value)
    assert err.value.__cause__ is not None  # the SDK exception is chained
    if expected is CloudError:
        assert err.value.code == code
        assert err.value.throttled == (status == 429)
        assert err.value.retryable == (status >= 429)


def test_not_found_and_already_exists_from_the_handlers(cloud: AzureSession, net: Net) -> None:
    with pytest.raises(NotFound):
        cloud.vpcs().get(iid(net.vpc.iid.system_id + "-nope"))
    with pytest.raises(NotFound):
        cloud.vpcs().get(iid("not/an/arm/id"))
    with pytest.raises(NotFound):
        cloud.vpcs().delete(iid("vnet-nope"))  # ARM answers 204 to that; the driver looks first
    with pytest.raises(AlreadyExists):
        cloud.vpcs().create(VPCReq(name="vnet-1", cidr="10.1.0.0/16"))
    cloud.vms().start(net.vm_req())
    with pytest.raises(InUse):
        cloud.security_groups().delete(net.sg.iid)


# ------------------------------------------------------------------ paging
def test_lists_follow_next_link(cloud: AzureSession, fake: AzureFake) -> None:
    fake.state.page_size = 2
    for i in range(5):
        cloud.vpcs().create(VPCReq(name=f"vnet-{i}", cidr=f"10.{i}.0.0/16"))
    fake.clear_requests()
    assert [v.iid.name_id for v in cloud.vpcs().list()] == [f"vnet-{i}" for i in range(5)]
    pages = fake.find("GET", VNETS)
    assert len(pages) == 3 and [p.q("$skiptoken") for p in pages] == [None, "2", "4"]
    assert len(cloud.specs().list()) == 6  # vmSizes pages too (2 + 2 + 2)
    assert len(fake.find("GET", r"/vmSizes$")) == 3


# ------------------------------------------------------------------ options and credentials
@pytest.mark.parametrize("options,field", [
    ({"resource_grup": "x"}, "resource_grup"),
    ({"poll_interval": -1}, "poll_interval"),
    ({"credential": "magic"}, "credential"),
    ({"base_url": "http://example.com"}, "base_url"),
    ({"credential": "static", "base_url": "https://management.azure.com"}, "options"),
])
def test_bad_options_are_refused_before_any_call(fake: AzureFake, options: dict, field: str) -> None:
    from mcinfra.core.handlers import SessionInfo

    before = fake.served
    info = SessionInfo(name="x", provider="azure", credentials={"subscription_id": "s"}, region="koreacentral",
                       options=options)
    with pytest.raises(InvalidRequest) as err:
        AzureDriver().connect(info)
    assert field in str(err.value)
    assert fake.served == before


def test_secret_credential_needs_its_keys_and_never_shows_them() -> None:
    from mcinfra.core.handlers import SessionInfo

    info = SessionInfo(name="x", provider="azure", region="koreacentral",
                       credentials={"subscription_id": "s", "tenant_id": "t", "client_secret": "TOPSECRET-123"})
    with pytest.raises(InvalidRequest) as err:
        AzureDriver().connect(info)
    assert "client_id" in str(err.value) and "TOPSECRET" not in str(err.value)
    full = SessionInfo(name="x", provider="azure", region="koreacentral",
                       credentials={"subscription_id": "s", "tenant_id": "t", "client_id": "c",
                                    "client_secret": "TOPSECRET-123"})
    session = AzureDriver().connect(full)  # builds the credential; nothing is sent until a call
    assert "TOPSECRET" not in repr(session.client.credential) and "TOPSECRET" not in repr(full)
    session.close()


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("kind", sorted(MAX_BY_KIND))
def test_name_rules_per_kind(kind: str) -> None:
    limit = MAX_BY_KIND[kind] - (7 if kind in ("vm", "nlb") else 0)
    assert check_name("a" * limit, kind)
    for bad in ("a" * (limit + 1), "-lead", "trail-", "trail.", "sp ace", "semi;colon", ""):
        with pytest.raises(InvalidRequest):
            check_name(bad, kind)
    assert check_name("A_b.c-9_", kind)


def test_core_names_fit_the_rules() -> None:
    rules = AzureDriver().capabilities().name_rules
    for kind in MAX_BY_KIND:
        limit = rules.max_length_by_kind.get(kind, rules.max_length)
        assert check_name("x" * limit, kind)


# ------------------------------------------------------------------ install and import
def test_import_mcinfra_loads_no_azure_sdk() -> None:
    code = ("import sys, mcinfra; i = mcinfra.Infra('sqlite:///:memory:'); i.providers(); "
            "print([m for m in sys.modules if m.startswith(('azure', 'msal'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    real = importlib.metadata.distribution

    def distribution(name: str) -> object:
        if name == "azure-mgmt-network":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        status = {p.name: p for p in infra.providers()}["azure"]
        assert not status.installed and "azure-mgmt-network" in status.status
        infra.credentials.add("c", provider="azure", keys={"subscription_id": "s"})
        infra.regions.add("r", provider="azure", region="koreacentral")
        infra.connections.add("az", credential="c", region="r", options={"resource_group": GROUP})
        with pytest.raises(mcinfra.DriverNotInstalled, match=r"mcinfra\[azure\]"):
            infra.connect("az")


def test_fake_answers_are_all_validated(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    cloud.vms().start(net.vm_req())
    assert fake.validated > 0 and fake.schema_errors == []
    assert json.dumps(fake.state.resources)  # state stays plain JSON


def test_a_real_endpoint_cannot_be_reached_from_tests(fake: AzureFake) -> None:
    from mcinfra.core.handlers import SessionInfo

    info = SessionInfo(name="x", provider="azure", region="koreacentral",
                       credentials={"subscription_id": "s", "tenant_id": "t", "client_id": "c", "client_secret": "x"})
    session = AzureDriver().connect(info)
    with pytest.raises(CloudError):  # the identity endpoint is refused by the guard, and mapped
        session.vpcs().list()
    session.close()


def test_vpc_with_its_security_groups_is_in_use(cloud: AzureSession, net: Net) -> None:
    with pytest.raises(InUse, match="nsg-1"):
        cloud.vpcs().delete(net.vpc.iid)  # Azure itself would delete it and orphan the NSG
    cloud.security_groups().delete(net.sg.iid)
    cloud.vpcs().delete(net.vpc.iid)


def test_image_latest_resolves_to_the_listed_version(cloud: AzureSession) -> None:
    got = cloud.images().get("Canonical:ubuntu-24_04-lts:server:latest")
    assert got.iid.name_id == "Canonical:ubuntu-24_04-lts:server:latest"
    assert got.iid.system_id == "Canonical:ubuntu-24_04-lts:server:24.04.202502210"
    assert got.iid.system_id in {i.iid.system_id for i in cloud.images().list()}
    with pytest.raises(NotFound):
        cloud.images().get("Canonical:ubuntu-24_04-lts:server:1.2.3")
    with pytest.raises(InvalidRequest):
        cloud.images().get("ubuntu")


def test_vm_list_reads_nics_and_addresses_in_two_lists(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    for n in ("vm-1", "vm-2", "vm-3"):
        cloud.vms().start(net.vm_req(n))
    fake.clear_requests()
    listed = cloud.vms().list()
    assert sorted(v.iid.name_id for v in listed) == ["vm-1", "vm-2", "vm-3"]
    assert all(v.public_ip and v.private_ip and v.security_groups == [net.sg.iid.system_id] for v in listed)
    assert len(fake.requests) == 3  # VMs with their instance views, NICs, public IPs


@pytest.mark.parametrize("op_polls", [0, 2])
def test_throttled_poll_resumes_the_operation(cloud: AzureSession, fake: AzureFake, net: Net, op_polls: int) -> None:
    fake.state.op_polls = op_polls
    fake.inject("GET", r"/operations/", status=429, reason="TooManyRequests", times=2)
    vm = cloud.vms().start(net.vm_req())  # NIC and VM creations are polled; two polls refused on the way
    assert vm.status.value == "Running"
    assert len(fake.find("PUT", r"/virtualMachines/vm-1$")) == 1  # nothing but the polls is sent again
    fake.inject("GET", r"/operations/", status=429, reason="TooManyRequests", times=1)
    cloud.vms().suspend(vm.iid)  # an action's polls too
    assert len(fake.find("POST", r"/deallocate$")) == 1


def test_throttled_polls_give_up_per_the_policy(cloud: AzureSession, fake: AzureFake) -> None:
    fake.inject("GET", r"/operations/", status=429, reason="TooManyRequests", times=50)
    with pytest.raises(CloudError) as err:
        cloud.vpcs().create(VPCReq(name="vnet-t", cidr="10.9.0.0/16"))
    assert err.value.throttled
    assert len(fake.find("GET", r"/operations/")) == cloud.client.retry.attempts  # one poll per try
    fake.clear_faults()
