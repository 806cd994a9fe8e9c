"""The Azure connection options, typed (see docs/azure.md): a misspelt option or a bad value is refused."""

from __future__ import annotations

from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from mcinfra.drivers.kit import DriverOptions, RateDefault

#: marketplace images images.list reports (publisher:offer:sku; the newest version of each)
DEFAULT_IMAGES = (
    "Canonical:ubuntu-24_04-lts:server",
    "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2",
    "Debian:debian-12:12-gen2",
)
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class AzureOptions(DriverOptions):
    """Retries are the kit's ``retry_attempts``/``retry_base``/``retry_budget`` (the SDK's own are off)."""

    #: Azure Resource Manager token buckets per subscription and region: writes and deletes 200 / 10 per s,
    #: reads 250 / 25 per s; one bucket at the stricter class (docs/azure.md)
    RATE_DEFAULT: ClassVar[RateDefault] = RateDefault(10.0, 200, "https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/request-limits-and-throttling")

    resource_group: str = Field("mcinfra", min_length=1, max_length=90, pattern=r"^[-\w._()]+$",
                                description="resource group of everything this connection makes (created if missing)")
    subscription_id: str | None = Field(None, description="subscription (default: the credential's subscription_id)")
    credential: Literal["secret", "default", "static"] = Field(
        "secret", description="secret: ClientSecretCredential; default: DefaultAzureCredential; "
                              "static: a fixed token, loopback test endpoints only")
    base_url: str | None = Field(None, description="ARM endpoint, e.g. http://127.0.0.1:PORT for a test fake")
    poll_interval: float | None = Field(None, ge=0, description="seconds between LRO polls (default: Retry-After)")
    operation_timeout: float = Field(900.0, gt=0, description="bound on one long-running operation, seconds")
    request_timeout: float = Field(60.0, gt=0, description="read timeout of one HTTP request, seconds")
    images: tuple[str, ...] = Field(DEFAULT_IMAGES, description="publisher:offer:sku triples images.list reports")
    key_type: Literal["ed25519", "rsa"] = Field("ed25519", description="type of generated key pairs")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        if parts.scheme == "http" and parts.hostname not in LOOPBACK:
            raise ValueError("plain http is allowed for a loopback test endpoint only")
        return v.rstrip("/")

    @model_validator(mode="after")
    def _static_only_on_loopback(self) -> AzureOptions:
        if self.credential == "static" and not self.loopback:
            raise ValueError("credential 'static' is for a loopback base_url only")
        return self

    @property
    def loopback(self) -> bool:
        return bool(self.base_url) and urlsplit(self.base_url or "").hostname in LOOPBACK
