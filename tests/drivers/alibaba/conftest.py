from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

pytest.importorskip("alibabacloud_ecs20140526", reason="the alibaba extra is not installed")

from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import IID, KeyPairReq, SecurityGroupReq, SecurityRule, SubnetReq, VPCReq
from mcinfra.drivers.alibaba.driver import AlibabaDriver, AlibabaSession
from tests.fakes import FAKE_RATE
from tests.fakes.alibaba import AliFake

REGION = "cn-hangzhou"
ZONE = "cn-hangzhou-h"
IMAGE = "ubuntu_22_04_x64_20G_alibase_20240130.vhd"
SPEC = "ecs.g7.large"
SECRET = "SKdriver-secret-value-0042"


def connect(fake: AliFake, **options: Any) -> AlibabaSession:
    info = SessionInfo(
        name="ali-test",
        provider="alibaba",
        credentials={"access_key_id": "AKdriver", "access_key_secret": SECRET},
        region=REGION,
        zone=ZONE,
        options={
            "endpoint": f"127.0.0.1:{fake.port}",
            "protocol": "http",
            "poll_interval": 0.001,
            "retry_base": 0.001,
            **FAKE_RATE,
            **options,
        },
    )
    session = AlibabaDriver().connect(info)
    assert isinstance(session, AlibabaSession)
    return session


@pytest.fixture(scope="module")
def fake() -> Iterator[AliFake]:
    with AliFake(secrets={"AKdriver": SECRET}) as f:
        yield f


@pytest.fixture
def cloud(fake: AliFake) -> Iterator[AlibabaSession]:
    fake.reset()
    fake.state.state_polls = fake.state.job_polls = fake.state.lb_polls = 0
    fake.state.page_size = 100
    session = connect(fake)
    yield session
    session.close()
    assert fake.schema_errors == [] and fake.signature_errors == []


@dataclass
class Net:
    vpc: str
    subnet: str
    sg: str
    key: str


def make_net(cloud: AlibabaSession, cidr: str = "10.0.0.0/16") -> Net:
    vpc = cloud.vpcs().create(
        VPCReq(
            name="vpc-a", cidr=cidr, subnets=[SubnetReq(name="sn-a", cidr=cidr.replace("0.0/16", "1.0/24"), zone=ZONE)]
        )
    )
    sg = cloud.security_groups().create(
        SecurityGroupReq(
            name="sg-a",
            vpc=vpc.iid.system_id,
            rules=[
                SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22),
                SecurityRule(direction="outbound", protocol="ALL"),
            ],
        )
    )
    key = cloud.keypairs().create(KeyPairReq(name="key-a"))
    return Net(vpc.iid.system_id, vpc.subnets[0].iid.system_id, sg.iid.system_id, key.iid.system_id)


def iid(system_id: str) -> IID:
    return IID(name_id=system_id, system_id=system_id)
