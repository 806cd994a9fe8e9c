from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("openstack", reason="the openstack extra (openstacksdk) is not installed")
pytest.importorskip("tempest.lib.api_schema.response.compute.v2_1.servers",
                    reason="tempest's schemas check the fake (pip install --no-deps tempest==47.0.0)")

from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import SecurityRule, SubnetReq, VPCReq
from mcinfra.drivers.openstack.driver import OpenStackDriver, OpenStackSession
from tests.fakes import FAKE_RATE
from tests.fakes.openstack import OpenStackFake

FAST = {"poll_interval": 0.001, "max_poll_interval": 0.005, "retry_base": 0.001, "wait_timeout": 5, **FAKE_RATE}
SSH_IN = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")
OUT_ALL = SecurityRule(direction="outbound", protocol="ALL", cidr="0.0.0.0/0")


def credentials(fake: OpenStackFake) -> dict[str, str]:
    kw = fake.connect_kwargs()
    return {"auth_url": kw["auth_url"], "username": kw["username"], "password": kw["password"],
            "project_name": kw["project_name"]}


def connect(fake: OpenStackFake, credentials_: dict[str, str] | None = None, **options: Any) -> OpenStackSession:
    info = SessionInfo(name="os-test", provider="openstack", credentials=credentials_ or credentials(fake),
                       region="RegionOne", zone="nova", options={**FAST, **options})
    session = OpenStackDriver().connect(info)
    assert isinstance(session, OpenStackSession)
    return session


@pytest.fixture(scope="module")
def fake() -> Iterator[OpenStackFake]:
    with OpenStackFake() as f:
        yield f


@pytest.fixture
def cloud(fake: OpenStackFake) -> Iterator[OpenStackSession]:
    fake.reset()
    fake.state.page_size = 1000
    fake.state.build_polls = 1
    fake.state.lb_polls = 1
    session = connect(fake)
    yield session
    session.close()
    fake.clear_faults()
    assert fake.schema_errors == []


def seeded(fake: OpenStackFake) -> dict[str, int]:
    """How many resources of each kind the fake holds (the seeded external network, its subnet and
    the default security group included)."""
    s = fake.state
    return {"networks": len(s.networks), "subnets": len(s.subnets), "routers": len(s.routers),
            "ports": len(s.ports), "sgs": len(s.sgs), "rules": len(s.rules), "fips": len(s.fips),
            "servers": len(s.servers), "keypairs": len(s.keypairs), "lbs": len(s.lbs),
            "listeners": len(s.listeners), "pools": len(s.pools), "members": len(s.members),
            "monitors": len(s.monitors)}


def make_net(cloud: OpenStackSession) -> dict[str, str]:
    """A VPC with one subnet, an SG allowing SSH, a key pair: their system ids."""
    vpc = cloud.vpcs().create(VPCReq(name="vpc-1", cidr="10.0.0.0/16",
                                     subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24")]))
    from mcinfra.core.models import KeyPairReq, SecurityGroupReq

    sg = cloud.security_groups().create(SecurityGroupReq(name="sg-1", vpc=vpc.iid.system_id,
                                                         rules=[SSH_IN, OUT_ALL]))
    key = cloud.keypairs().create(KeyPairReq(name="key-1"))
    return {"vpc": vpc.iid.system_id, "subnet": vpc.subnets[0].iid.system_id, "sg": sg.iid.system_id,
            "key": key.iid.system_id}
