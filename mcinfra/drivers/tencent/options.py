"""The Tencent driver's connection options (typed; a misspelt or bad option is an InvalidRequest)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from mcinfra.drivers.kit import DriverOptions, RateDefault


class TencentOptions(DriverOptions):
    #: TencentCloud API limits per API + access region + sub-account, 20 requests/s by default (e.g.
    #: DescribeInstances); one bucket for all actions at that figure (docs/tencent.md)
    RATE_DEFAULT: ClassVar[RateDefault] = RateDefault(20.0, 20, "https://cloud.tencent.com/document/product/1278/109059")

    endpoint: str | None = Field(
        None,
        description="host[:port] every service is called at instead of <service>.tencentcloudapi.com "
        "(tests: the loopback fake)",
    )
    protocol: Literal["https", "http"] = Field("https", description="http only for a local endpoint")
    request_timeout: int = Field(60, ge=1, le=600, description="seconds one HTTP request may take")
    poll_interval: float = Field(1.0, gt=0, le=60, description="first pause between polls of async work")
    poll_max_interval: float = Field(5.0, gt=0, le=120, description="longest pause between polls")
    operation_timeout: float = Field(600.0, gt=0, le=7200, description="seconds a CLB task or a VM launch may take")
    project_id: int = Field(0, ge=0, description="the Tencent project new resources go into")
    public_bandwidth_out: int = Field(
        5, ge=1, le=200, description="Mbps of the public IP a VM gets (InternetMaxBandwidthOut)"
    )
    internet_charge_type: str = Field("TRAFFIC_POSTPAID_BY_HOUR", description="InternetChargeType of a VM's public IP")
    instance_charge_type: str = Field("POSTPAID_BY_HOUR", description="InstanceChargeType of new VMs")
    default_disk_type: str = Field("CLOUD_BSSD", description="SystemDisk.DiskType when the request names none")
