"""The Alibaba connection options, typed (see docs/alibaba.md)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from mcinfra.drivers.kit import DriverOptions, RateDefault


class AlibabaOptions(DriverOptions):
    #: ECS throttles per account, API and region at thresholds shown in Quota Center, not published as
    #: one figure: a conservative 10/s (docs/alibaba.md)
    RATE_DEFAULT: ClassVar[RateDefault] = RateDefault(10.0, 10, "https://www.alibabacloud.com/help/en/ecs/developer-reference/api-throttling")

    endpoint: str | None = Field(
        None,
        min_length=1,
        description="one host[:port] for ECS, VPC and NLB (a test fake); default: "
        "Alibaba's regional endpoints (ecs.<region>.aliyuncs.com...)",
    )
    protocol: Literal["https", "http"] = Field("https", description="http for a local fake")
    connect_timeout: float = Field(5.0, gt=0, le=120, description="seconds")
    read_timeout: float = Field(30.0, gt=0, le=600, description="seconds")
    poll_interval: float = Field(
        2.0, gt=0, le=60, description="first pause (s) of instance / NLB / job polls (backs off to 10x)"
    )
    vm_start_timeout: float = Field(300.0, gt=0, le=3600, description="seconds start waits for Running")
    async_timeout: float = Field(
        300.0, gt=0, le=3600, description="seconds for NLB provisioning, NLB jobs, VPC/vSwitch availability"
    )
    stop_charging: bool = Field(
        True, description="suspend with StoppedMode=StopCharging (no compute charge; the public IP may change)"
    )
    internet_bandwidth: int = Field(
        5, ge=0, le=100, description="Mbit/s of public bandwidth per VM (InternetMaxBandwidthOut; 0: no public IP)"
    )
    default_disk_category: str = Field("cloud_essd", description="system disk category when a start names none")
    credential_chain: bool = Field(
        False,
        description="without access keys, use the SDK's default credential chain (environment, "
        "~/.alibabacloud/credentials, the ECS RAM role)",
    )
    page_size: int = Field(50, ge=1, le=100, description="PageSize / MaxResults of list calls")
