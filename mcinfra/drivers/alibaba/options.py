"""The Alibaba connection options (typed; an unknown or bad option is an InvalidRequest)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mcinfra.drivers.kit import DriverOptions


class AlibabaOptions(DriverOptions):
    #: one "host[:port]" for every product (ECS, VPC, NLB), e.g. a local fake; default: Alibaba's
    #: regional endpoints ("ecs.<region>.aliyuncs.com"...)
    endpoint: str | None = Field(None, min_length=1)
    protocol: Literal["https", "http"] = "https"
    connect_timeout_ms: int = Field(5000, ge=100, le=120_000)
    read_timeout_ms: int = Field(30_000, ge=100, le=600_000)
    #: seconds between polls of an instance, an NLB or an NLB job (backs off to 10 x this)
    poll_interval: float = Field(2.0, gt=0, le=60)
    vm_start_timeout: float = Field(300.0, gt=0, le=3600)
    #: bound (s) of NLB provisioning, NLB jobs and VPC/vSwitch availability
    async_timeout: float = Field(300.0, gt=0, le=3600)
    #: suspend = StopInstance with StoppedMode=StopCharging (no compute charge while stopped; the
    #: public IP may change on resume); False: KeepCharging
    stop_charging: bool = True
    #: Mbit/s of public bandwidth a VM gets (0: no public IP)
    internet_bandwidth: int = Field(5, ge=0, le=100)
    #: system disk category when a VM start names none
    default_disk_category: str = "cloud_essd"
    #: without access_key_id/secret in the credential, use the SDK's default credential chain
    #: (ALIBABA_CLOUD_* environment variables, ~/.alibabacloud/credentials, the ECS RAM role)
    credential_chain: bool = False
    #: PageSize / MaxResults asked of list calls
    page_size: int = Field(50, ge=1, le=100)
