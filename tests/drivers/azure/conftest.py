from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("azure.mgmt.compute", reason="the azure extra is not installed")

from mcinfra.core.handlers import SessionInfo
from mcinfra.core.keys import generate_ssh_keypair
from mcinfra.core.models import IID, KeyPairReq, SecurityGroupReq, SecurityRule, SubnetReq, VMReq, VPCReq
from mcinfra.drivers.azure.driver import AzureDriver, AzureSession
from tests.fakes import FAKE_RATE
from tests.fakes.azure import SUBSCRIPTION, AzureFake

REGION = "koreacentral"
GROUP = "rg-test"
IMAGE = "Canonical:ubuntu-24_04-lts:server:latest"
SPEC = "Standard_B1s"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name resolution of anything but loopback fails: no SDK or identity call can leave the machine."""
    import socket

    real = socket.getaddrinfo

    def guarded(host: object, *args: object, **kwargs: object) -> object:
        if host not in ("127.0.0.1", "localhost", "::1", b"127.0.0.1", None):
            raise OSError(f"test guard: {host!r} is not loopback")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture(scope="module")
def fake() -> Iterator[AzureFake]:
    with AzureFake() as f:
        yield f


def connect(fake: AzureFake, **options: Any) -> AzureSession:
    info = SessionInfo(name="azure-test", provider="azure", credentials={"subscription_id": SUBSCRIPTION},
                       region=REGION, options={"base_url": fake.url, "credential": "static", "poll_interval": 0,
                                               "retry_base": 0.001, "resource_group": GROUP, **FAKE_RATE,
                                               **options})
    session = AzureDriver().connect(info)
    assert isinstance(session, AzureSession)
    return session


@pytest.fixture
def cloud(fake: AzureFake) -> Iterator[AzureSession]:
    fake.reset()
    fake.state.op_polls = 0
    fake.state.page_size = 100
    session = connect(fake)
    yield session
    session.close()
    assert fake.schema_errors == []


class Net:
    """A VNet with one subnet, an NSG allowing SSH in and a key pair, made through the handlers."""

    def __init__(self, cloud: AzureSession) -> None:
        self.vpc = cloud.vpcs().create(VPCReq(name="vnet-1", cidr="10.0.0.0/16",
                                              subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24")]))
        self.subnet = self.vpc.subnets[0].iid.system_id
        ssh = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22)
        self.sg = cloud.security_groups().create(SecurityGroupReq(name="nsg-1", vpc=self.vpc.iid.system_id,
                                                                  rules=[ssh]))
        self.key = cloud.keypairs().create(KeyPairReq(name="key-1", public_key=generate_ssh_keypair()[1]))

    def vm_req(self, name: str = "vm-1", **kw: Any) -> VMReq:
        return VMReq(name=name, image=IMAGE, spec=SPEC, vpc=self.vpc.iid.system_id, subnet=self.subnet,
                     security_groups=[self.sg.iid.system_id], keypair=self.key.iid.system_id,
                     public_key=self.key.public_key, **kw)


@pytest.fixture
def net(cloud: AzureSession) -> Net:
    return Net(cloud)


def names(fake: AzureFake, rtype: str) -> list[str]:
    """Names of the fake's resources of an ARM type (e.g. Microsoft.Network/networkInterfaces)."""
    return sorted(r["name"] for r in fake.state.resources.values() if r["type"] == rtype)


def iid(system_id: str) -> IID:
    return IID(name_id=system_id.rsplit("/", 1)[-1], system_id=system_id)
