"""The AWS driver plugin. boto3 is imported only when a connection is made."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    ImageHandler,
    KeyPairHandler,
    NameRules,
    NLBHandler,
    RegionZoneHandler,
    SecurityGroupHandler,
    SessionInfo,
    SpecHandler,
    VMHandler,
    VPCHandler,
)

if TYPE_CHECKING:
    from mcinfra.drivers.aws.client import AwsClient


class AwsSession(DriverSession):
    def __init__(self, info: SessionInfo, client: AwsClient) -> None:
        super().__init__(info)
        self.client = client

    def vpcs(self) -> VPCHandler:
        from mcinfra.drivers.aws.vpc import AwsVPCHandler

        return AwsVPCHandler(self.client)

    def security_groups(self) -> SecurityGroupHandler:
        from mcinfra.drivers.aws.security_group import AwsSecurityGroupHandler

        return AwsSecurityGroupHandler(self.client)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.aws.keypair import AwsKeyPairHandler

        return AwsKeyPairHandler(self.client)

    def vms(self) -> VMHandler:
        from mcinfra.drivers.aws.vm import AwsVMHandler

        return AwsVMHandler(self.client)

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.aws.nlb import AwsNLBHandler

        return AwsNLBHandler(self.client)

    def region_zones(self) -> RegionZoneHandler:
        from mcinfra.drivers.aws.region_zone import AwsRegionZoneHandler

        return AwsRegionZoneHandler(self.client)

    def images(self) -> ImageHandler:
        from mcinfra.drivers.aws.image import AwsImageHandler

        return AwsImageHandler(self.client)

    def specs(self) -> SpecHandler:
        from mcinfra.drivers.aws.spec import AwsSpecHandler

        return AwsSpecHandler(self.client)

    def close(self) -> None:
        self.client.close()


class AwsDriver(CloudDriver):
    provider = "aws"
    extra = "aws"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            zone_based=True,
            vpc_cidr=True,
            keypair_objects=True,
            # Name tags take 255 characters; ELB and target group names only 32.
            name_rules=NameRules(
                max_length=255,
                max_length_by_kind={"nlb": 32},
                lowercase=True,
                separator="-",
                reserved_prefixes=("sg-",),
            ),
        )

    def check_installed(self) -> str | None:
        if importlib.util.find_spec("boto3") is None:
            return "the boto3 package is not installed"
        return None

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.core.errors import DriverNotInstalled

        missing = self.check_installed()
        if missing:
            raise DriverNotInstalled(self.provider, self.extra, missing)
        from mcinfra.drivers.aws.options import AwsOptions

        options = AwsOptions.parse(self.provider, info.options)  # bad options fail before boto3 loads
        from mcinfra.drivers.aws.client import AwsClient

        return AwsSession(info, AwsClient(info, options))
