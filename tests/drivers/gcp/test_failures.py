"""Half-way failures clean up what they made; errors map onto mcinfra's types; retries."""

from __future__ import annotations

from typing import Any

import pytest

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.models import (
    DEFAULT_OUTBOUND_RULE,
    IID,
    HealthChecker,
    KeyPairReq,
    Listener,
    NLBReq,
    SecurityGroupReq,
    SecurityRule,
    SubnetReq,
    VMGroup,
    VMReq,
    VMStatus,
    VPCReq,
)
from tests.drivers.gcp.conftest import connect
from tests.fakes.gcp import GcpFake

P = "mcinfra-test"
RULES = [
    SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22),
    SecurityRule(direction="inbound", protocol="TCP", from_port=80, to_port=80),
    SecurityRule(direction="inbound", protocol="ICMP"),
    DEFAULT_OUTBOUND_RULE,
]


def _iid(name: str) -> IID:
    return IID(name_id=name, system_id=name)


def _net(cloud: Any) -> None:
    cloud.vpcs().create(VPCReq(name="vpc-1", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24")]))


def _vm(cloud: Any, name: str = "vm-1", sgs: list[str] | None = None) -> Any:
    key = cloud.keypairs().create(KeyPairReq(name="key-1"))
    return cloud.vms().start(
        VMReq(
            name=name,
            image="debian-12",
            spec="e2-small",
            vpc="vpc-1",
            subnet="sn-1",
            security_groups=sgs or [],
            keypair="key-1",
            public_key=key.public_key,
        )
    )


# ---------------------------------------------------------------- half-way failures
def test_sg_create_failing_half_way_deletes_the_firewalls_it_made(cloud: Any, fake: GcpFake) -> None:
    _net(cloud)
    fake.inject("POST", r"/global/firewalls$", status=400, reason="invalid", skip=2)  # the third insert
    with pytest.raises(CloudError) as err:
        cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc="vpc-1", rules=RULES))
    assert err.value.code == "invalid"
    assert len(fake.find("POST", r"/global/firewalls$")) == 3
    assert len(fake.find("DELETE", r"/global/firewalls/sg-1-")) == 2
    assert fake.state.coll(P, "global", "firewalls") == {}
    with pytest.raises(NotFound):
        cloud.security_groups().get(_iid("sg-1"))


def test_vpc_create_failing_on_a_subnet_deletes_the_network(cloud: Any, fake: GcpFake) -> None:
    fake.inject("POST", r"/subnetworks$", status=403, reason="quotaExceeded", skip=1)
    req = VPCReq(
        name="vpc-1",
        cidr="10.0.0.0/16",
        subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24"), SubnetReq(name="sn-2", cidr="10.0.2.0/24")],
    )
    with pytest.raises(CloudError, match="quotaExceeded"):
        cloud.vpcs().create(req)
    assert fake.state.all_of("networks") == [] and fake.state.all_of("subnetworks") == []


def test_nlb_create_failing_on_the_listener_removes_every_part(cloud: Any, fake: GcpFake) -> None:
    _net(cloud)
    _vm(cloud)
    fake.inject("POST", r"/forwardingRules$", status=400, reason="invalid")
    with pytest.raises(CloudError):
        cloud.nlbs().create(
            NLBReq(
                name="nlb-1",
                vpc="vpc-1",
                listener=Listener(port=80),
                vm_group=VMGroup(port=80, vms=["vm-1"]),
                health_checker=HealthChecker().with_defaults(80),
            )
        )
    for coll in ("healthChecks", "backendServices", "instanceGroups", "forwardingRules"):
        assert fake.state.all_of(coll) == [], coll
    assert cloud.nlbs().list() == []


def test_vm_whose_insert_operation_fails_is_removed(cloud: Any, fake: GcpFake) -> None:
    _net(cloud)
    fake.fail_operation("insert", "ZONE_RESOURCE_POOL_EXHAUSTED", "no e2-small left in us-central1-a", 503)
    with pytest.raises(CloudError) as err:
        _vm(cloud)
    assert err.value.code == "ZONE_RESOURCE_POOL_EXHAUSTED"
    assert fake.state.all_of("instances") == []
    assert cloud.vms().status(_iid("vm-1")) == VMStatus.NOT_EXIST


# ---------------------------------------------------------------- error mapping
def test_404_is_not_found_and_a_gone_vm_does_not_exist(cloud: Any) -> None:
    for call in (
        lambda: cloud.vpcs().get(_iid("nope")),
        lambda: cloud.vms().get(_iid("nope")),
        lambda: cloud.nlbs().get(_iid("nope")),
        lambda: cloud.security_groups().get(_iid("nope")),
        lambda: cloud.images().get("no-such-image"),
        lambda: cloud.specs().get("n9-mega-1"),
    ):
        with pytest.raises(NotFound):
            call()
    assert cloud.vms().status(_iid("nope")) == VMStatus.NOT_EXIST


def test_409_is_already_exists(cloud: Any) -> None:
    _net(cloud)
    with pytest.raises(AlreadyExists):
        cloud.vpcs().create(VPCReq(name="vpc-1", cidr="10.1.0.0/16"))
    cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc="vpc-1", rules=[]))
    with pytest.raises(AlreadyExists):
        cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc="vpc-1", rules=RULES))


def test_resource_in_use_is_in_use(cloud: Any, fake: GcpFake) -> None:
    _net(cloud)
    cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc="vpc-1", rules=RULES))
    _vm(cloud, sgs=["sg-1"])
    with pytest.raises(InUse):  # HTTP 400 reason resourceInUseByAnotherResource
        cloud.vpcs().remove_subnet(_iid("vpc-1"), _iid("sn-1"))
    with pytest.raises(InUse):  # checked before any subnet goes
        cloud.vpcs().delete(_iid("vpc-1"))
    with pytest.raises(InUse):  # GCP would allow it; the driver refuses like other clouds
        cloud.security_groups().delete(_iid("sg-1"))
    assert len(fake.state.all_of("subnetworks")) == 1


def test_in_use_reported_by_the_operation_is_in_use(cloud: Any, fake: GcpFake) -> None:
    _net(cloud)
    fake.fail_operation("delete", "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE", "used by projects/p/global/routes/r")
    with pytest.raises(InUse, match="routes/r"):
        cloud.vpcs().remove_subnet(_iid("vpc-1"), _iid("sn-1"))


def test_server_errors_on_reads_are_retried(cloud: Any, fake: GcpFake) -> None:
    _net(cloud)
    fake.clear_requests()
    fake.inject("GET", r"/global/networks/vpc-1$", status=503, reason="backendError", times=2)
    assert cloud.vpcs().get(_iid("vpc-1")).cidr == "10.0.0.0/16"
    assert len(fake.find("GET", r"/global/networks/vpc-1$")) == 3


def test_server_errors_on_mutations_are_not_retried_but_throttling_is(cloud: Any, fake: GcpFake) -> None:
    fake.inject("POST", r"/global/networks$", status=503, reason="backendError")
    with pytest.raises(CloudError) as err:
        cloud.vpcs().create(VPCReq(name="vpc-1", cidr="10.0.0.0/16"))
    assert err.value.retryable and len(fake.find("POST", r"/global/networks$")) == 1
    fake.inject("POST", r"/global/networks$", status=429, reason="rateLimitExceeded", times=2)
    cloud.vpcs().create(VPCReq(name="vpc-1", cidr="10.0.0.0/16"))
    assert len(fake.find("POST", r"/global/networks$")) == 4


def test_no_google_exception_escapes_an_unreachable_endpoint(fake: GcpFake) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        gone = GcpFake()
        gone.port = port
        conn = connect(gone, retries=1)
        with pytest.raises(CloudError) as err:
            conn.vpcs().list()
    assert err.value.code == "ConnectionError"
    assert isinstance(err.value, McInfraError) and err.value.__cause__ is not None


# ---------------------------------------------------------------- bad input, no call
def test_bad_names_are_refused_before_any_call(cloud: Any, fake: GcpFake) -> None:
    fake.clear_requests()
    for call in (
        lambda: cloud.vpcs().create(VPCReq(name="Vpc_1", cidr="10.0.0.0/16")),
        lambda: cloud.vpcs().create(
            VPCReq(name="vpc-1", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-", cidr="10.0.1.0/24")])
        ),
        lambda: cloud.security_groups().create(SecurityGroupReq(name="x" * 64, vpc="vpc-1")),
        lambda: cloud.keypairs().create(KeyPairReq(name="key-1", public_key="ssh-rsa not-base64")),
        lambda: cloud.vms().start(
            VMReq(name="vm-1", image="debian-12", spec="e2-small", vpc="v", subnet="s", keypair="k")
        ),  # no public key for GCP metadata
    ):
        with pytest.raises(InvalidRequest):
            call()
    assert fake.requests == []


def test_credentials_are_checked_and_never_echoed(fake: GcpFake) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from mcinfra.core.handlers import SessionInfo
    from mcinfra.drivers.gcp.driver import GcpDriver

    def info(creds: dict[str, str]) -> SessionInfo:
        return SessionInfo(
            name="c",
            provider="gcp",
            credentials=creds,
            region="us-central1",
            zone="us-central1-a",
            options={"api_endpoint": fake.url},
        )

    with pytest.raises(InvalidRequest, match="client_email, private_key"):
        GcpDriver().connect(info({"project_id": "p"}))
    secret = "-----BEGIN PRIVATE KEY-----\nTOP-SECRET-MATERIAL\n-----END PRIVATE KEY-----\n"
    with pytest.raises(InvalidRequest) as err:
        GcpDriver().connect(
            info({"project_id": "p", "client_email": "sa@p.iam.gserviceaccount.com", "private_key": secret})
        )
    assert "TOP-SECRET" not in str(err.value) and err.value.__cause__ is None
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    conn = GcpDriver().connect(
        info(
            {
                "project_id": "p",
                "client_email": "sa@p.iam.gserviceaccount.com",
                "private_key": pem,
                "private_key_id": "k1",
            }
        )
    )
    assert conn.client.project == "p"
    assert pem not in repr(conn.info)


def test_a_failure_on_a_later_list_page_is_mapped_too(cloud: Any, fake: GcpFake) -> None:
    fake.state.page_size = 2
    try:
        fake.inject("GET", r"/zones/us-central1-a/machineTypes$", status=403, reason="forbidden", skip=1)
        with pytest.raises(CloudError) as err:
            cloud.specs().list()
        assert err.value.code == "forbidden"
        assert len(fake.find("GET", r"/machineTypes$")) == 2
    finally:
        fake.state.page_size = 500


def test_options_are_typed_and_a_typo_is_refused_before_any_call(fake: GcpFake) -> None:
    fake.clear_requests()
    for bad, key in (({"retires": 2}, "retires"), ({"operation_timeout": "long"}, "operation_timeout"),
                     ({"key_type": "dsa"}, "key_type")):
        with pytest.raises(InvalidRequest, match=key) as err:
            connect(fake, **bad)
        assert err.value.field == f"options.{key}"
    assert fake.requests == []
    # retries (the old name: tries after the first) and retry_attempts both set the kit's policy
    assert connect(fake, retries=1).client.retry.attempts == 2
    assert connect(fake, retry_attempts=3).client.retry.attempts == 3
    assert connect(fake).client.retry.base == 0.001 and connect(fake).keypairs().key_type == "ed25519"
