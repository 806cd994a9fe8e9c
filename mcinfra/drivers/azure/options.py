"""The Azure driver's connection options (typed: a misspelt option or a bad value is refused)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from mcinfra.drivers.kit import DriverOptions

#: marketplace images images.list reports (publisher:offer:sku; the newest version of each)
DEFAULT_IMAGES = (
    "Canonical:ubuntu-24_04-lts:server",
    "Canonical:0001-com-ubuntu-server-jammy:22_04-lts-gen2",
    "Debian:debian-12:12-gen2",
)


class AzureOptions(DriverOptions):
    """Retries: the kit's ``retry_attempts``/``retry_base``/``retry_budget`` (the SDK's own are off)."""

    #: the resource group everything of this connection lives in (created if missing)
    resource_group: str = Field(default="mcinfra", min_length=1, max_length=90, pattern=r"^[-\w._()]+$")
    #: subscription id (else the credential's ``subscription_id``)
    subscription_id: str | None = None
    #: ``secret``: ClientSecretCredential from tenant_id/client_id/client_secret; ``default``:
    #: azure-identity's DefaultAzureCredential chain; ``static``: a fixed token, test endpoints only
    credential: Literal["secret", "default", "static"] = "secret"
    #: ARM endpoint (tests: the loopback fake). Plain http is allowed for 127.0.0.1/localhost only.
    base_url: str | None = None
    #: seconds between polls of a long-running operation (None: what Azure's Retry-After says)
    poll_interval: float | None = Field(default=None, ge=0)
    #: bound on one long-running operation, seconds
    operation_timeout: float = Field(default=900.0, gt=0)
    #: per-HTTP-request read timeout, seconds
    request_timeout: float = Field(default=60.0, gt=0)
    #: images.list: publisher:offer:sku triples whose newest version is listed
    images: tuple[str, ...] = DEFAULT_IMAGES
    #: key type of generated key pairs
    key_type: Literal["ed25519", "rsa"] = "ed25519"
    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: str | None) -> str | None:
        if v is None:
            return v
        parts = urlsplit(v)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("plain http is allowed for a loopback test endpoint only")
        return v.rstrip("/")

    @property
    def loopback(self) -> bool:
        return bool(self.base_url) and urlsplit(self.base_url or "").hostname in ("127.0.0.1", "localhost", "::1")

    @model_validator(mode="after")
    def _static_only_on_loopback(self) -> AzureOptions:
        if self.credential == "static" and not self.loopback:
            raise ValueError("credential 'static' is for a loopback base_url only")
        return self
