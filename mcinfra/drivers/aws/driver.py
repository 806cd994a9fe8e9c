"""The AWS driver plugin. boto3 is imported only when a connection is made."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    NameRules,
    SessionInfo,
)
from mcinfra.drivers.kit import ClientSession


class AwsSession(ClientSession):
    HANDLERS: ClassVar[Mapping[str, str]] = {
        "vpcs": "mcinfra.drivers.aws.vpc:AwsVPCHandler",
        "security_groups": "mcinfra.drivers.aws.security_group:AwsSecurityGroupHandler",
        "keypairs": "mcinfra.drivers.aws.keypair:AwsKeyPairHandler",
        "vms": "mcinfra.drivers.aws.vm:AwsVMHandler",
        "nlbs": "mcinfra.drivers.aws.nlb:AwsNLBHandler",
        "region_zones": "mcinfra.drivers.aws.region_zone:AwsRegionZoneHandler",
        "images": "mcinfra.drivers.aws.image:AwsImageHandler",
        "specs": "mcinfra.drivers.aws.spec:AwsSpecHandler",
        "prices": "mcinfra.drivers.aws.price:AwsPriceHandler",
    }


class AwsDriver(CloudDriver):
    provider = "aws"
    extra = "aws"
    requires = ("boto3",)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            kinds=Capabilities().kinds | {"price"},  # the Price List Query API (docs/aws.md)
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

    def connect(self, info: SessionInfo) -> DriverSession:
        self.require_installed()
        from mcinfra.drivers.aws.options import AwsOptions

        options = AwsOptions.parse(self.provider, info.options)  # bad options fail before boto3 loads
        from mcinfra.drivers.aws.client import AwsClient

        return AwsSession(info, AwsClient(info, options))
