"""The AWS connection options, typed (see docs/aws.md)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AliasChoices, Field, field_validator

from mcinfra.drivers.kit import DriverOptions, RateDefault

DEFAULT_OWNERS = ("amazon",)

#: the regions that serve the AWS Price List Query API (api.pricing.<region>.amazonaws.com[.cn])
PRICING_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1", "cn-northwest-1")


def nearest_pricing_region(region: str) -> str:
    """The Price List endpoint closest to ``region``: prices of every region are served by each
    endpoint of its partition, so this only saves round-trip time (and keeps China in China)."""
    if region.startswith("cn-"):
        return "cn-northwest-1"
    if region.startswith(("eu-", "me-", "af-", "il-")):
        return "eu-central-1"
    if region.startswith("ap-"):
        return "ap-south-1"
    return "us-east-1"


class AwsOptions(DriverOptions):
    #: EC2 throttles per account and region with token buckets; non-mutating actions: bucket 100, refill 20/s
    #: (docs/aws.md: the figures, and why one bucket)
    RATE_DEFAULT: ClassVar[RateDefault] = RateDefault(20.0, 100, "https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html")

    region: str | None = Field(None, description="the region when the connection names none")
    endpoint_url: str | None = Field(None, description="send every EC2/ELBv2 call here (a test endpoint)")
    retry_attempts: int = Field(
        5, ge=1, le=10, validation_alias=AliasChoices("retry_attempts", "max_attempts"),
        description="tries of one API call, the first included (old name: max_attempts)",
    )
    connect_timeout: float = Field(10.0, gt=0, description="seconds")
    read_timeout: float = Field(60.0, gt=0, description="seconds")
    hibernation: bool = Field(False, description="launch VMs hibernation-capable (encrypted root volume)")
    vm_start_timeout: float = Field(300.0, gt=0, description="seconds start waits for 'running'")
    poll_interval: float = Field(2.0, gt=0, description="seconds between state polls")
    image_owners: tuple[str, ...] = Field(DEFAULT_OWNERS, description="owners images.list lists")
    image_filters: dict[str, tuple[str, ...]] = Field(
        default_factory=dict, description="extra EC2 image filters {name: [values]}"
    )
    image_list_limit: int | None = Field(
        None, ge=1, description="at most this many images from images.list (None: every page, no cap)"
    )
    image_page_size: int = Field(1000, ge=5, le=1000, description="images per DescribeImages page")
    pricing_region: Literal["us-east-1", "eu-central-1", "ap-south-1", "cn-northwest-1"] | None = Field(
        None, description="the Price List API endpoint region (None: the nearest to the connection's region)"
    )
    pricing_endpoint_url: str | None = Field(
        None, description="send Price List calls here (a test endpoint; default: endpoint_url when set)")
    pricing_page_size: int = Field(100, ge=1, le=100, description="products per GetProducts page")

    @field_validator("image_owners", mode="before")
    @classmethod
    def _owners(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)
        return value or DEFAULT_OWNERS

    @field_validator("image_filters", mode="before")
    @classmethod
    def _filters(cls, value: Any) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            return value  # pydantic names the option and says it must be a mapping
        return {str(k): [str(v) for v in (vals if isinstance(vals, list | tuple) else [vals])]
                for k, vals in value.items()}
