"""Fixtures for the twin driver's own tests: one fresh twin region per test module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import (
    DEFAULT_OUTBOUND_RULE,
    KeyPairInfo,
    KeyPairReq,
    SecurityGroupInfo,
    SecurityGroupReq,
    SecurityRule,
    SubnetReq,
    VMInfo,
    VMReq,
    VPCInfo,
    VPCReq,
)


def twin_unavailable() -> str | None:
    """Why the twin cannot run here, or None."""
    from mcinfra.drivers.twin.netns import unavailable

    return unavailable()


@dataclass
class Twin:
    conn: object
    region: str
    state_dir: Path

    @property
    def prefix(self) -> str:
        return self.conn.region.prefix  # type: ignore[attr-defined]

    def vpc(self, name: str, cidr: str = "10.0.0.0/16", subnet: str = "10.0.1.0/24") -> VPCInfo:
        return self.conn.vpcs().create(  # type: ignore[attr-defined]
            VPCReq(name=name, cidr=cidr, subnets=[SubnetReq(name=f"{name}-sn", cidr=subnet)])
        )

    def sg(self, name: str, vpc: VPCInfo, rules: list[SecurityRule]) -> SecurityGroupInfo:
        return self.conn.security_groups().create(  # type: ignore[attr-defined]
            SecurityGroupReq(name=name, vpc=vpc.iid.system_id, rules=rules)
        )

    def key(self, name: str) -> KeyPairInfo:
        return self.conn.keypairs().create(KeyPairReq(name=name))  # type: ignore[attr-defined]

    def vm(self, name: str, vpc: VPCInfo, sgs: list[SecurityGroupInfo], key: KeyPairInfo) -> VMInfo:
        return self.conn.vms().start(  # type: ignore[attr-defined]
            VMReq(
                name=name,
                image="ubuntu-22.04",
                spec="twin.small",
                vpc=vpc.iid.system_id,
                subnet=vpc.subnets[0].iid.system_id,
                security_groups=[s.iid.system_id for s in sgs],
                keypair=key.iid.system_id,
            )
        )


OPEN_RULES = [
    SecurityRule(direction="inbound", protocol="ALL"),
    DEFAULT_OUTBOUND_RULE,
]


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    reason = twin_unavailable()
    if reason:
        pytest.skip(reason)
    from mcinfra.drivers.twin.cleanup import cleanup_region, leftovers
    from mcinfra.drivers.twin.driver import TwinDriver

    region = f"test-{uuid.uuid4().hex[:8]}"
    state_dir = tmp_path_factory.mktemp("twin")
    conn = TwinDriver().connect(
        SessionInfo(name="twin-test", provider="twin", region=region, options={"state_dir": str(state_dir)})
    )
    try:
        yield Twin(conn, region, state_dir)
    finally:
        prefix = conn.region.prefix
        cleanup_region(region, state_dir)
        left = leftovers(prefix)
        assert left.empty, f"cleanup left {left}"
