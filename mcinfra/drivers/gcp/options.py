"""The GCP connection options, typed (see docs/gcp.md)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from mcinfra.drivers.kit import DriverOptions, RateDefault, RetryPolicy

KeyType = Literal["ed25519", "rsa"]

#: Google's public image projects (Compute Engine docs, "Public images"); ``image_projects:
#: ["public"]`` lists them all, the set a full catalog sync wants
PUBLIC_IMAGE_PROJECTS = (
    "centos-cloud", "cos-cloud", "debian-cloud", "fedora-coreos-cloud", "opensuse-cloud", "rhel-cloud",
    "rhel-sap-cloud", "rocky-linux-cloud", "suse-cloud", "suse-sap-cloud", "ubuntu-os-cloud", "ubuntu-os-pro-cloud",
    "windows-cloud", "windows-sql-cloud",
)


class GcpOptions(DriverOptions):
    #: Compute Engine rate quotas: 1,500 requests per minute per project and quota group = 25/s
    #: (docs/gcp.md)
    RATE_DEFAULT: ClassVar[RateDefault] = RateDefault(25.0, 25, "https://cloud.google.com/compute/api-quota")

    project: str | None = Field(None, description="project to work in (default: the key's project_id)")
    api_endpoint: str | None = Field(None, description="e.g. http://127.0.0.1:PORT for a test fake")
    anonymous: bool = Field(False, description="AnonymousCredentials (test endpoints only)")
    operation_timeout: float = Field(600.0, ge=0, description="seconds to wait for an operation to be DONE")
    request_timeout: float = Field(60.0, gt=0, description="seconds per HTTP call")
    retry_base: float = Field(0.5, gt=0, le=10, description="first back-off pause in seconds (doubles per try)")
    retries: int | None = Field(
        None, ge=0, le=9, description="old name: tries after the first (retry_attempts = retries + 1)"
    )
    image_projects: tuple[str, ...] = Field(
        ("debian-cloud", "ubuntu-os-cloud"), description="public image projects images.list/get search"
    )
    image_page_size: int = Field(500, ge=1, le=500, description="images per images.list page (maxResults)")
    key_type: KeyType = Field("ed25519", description="type of generated key pairs")

    @field_validator("image_projects", mode="before")
    @classmethod
    def _projects(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = (value,)
        if isinstance(value, list | tuple) and "public" in value:  # the alias expands in place
            value = tuple(dict.fromkeys(p for v in value for p in (PUBLIC_IMAGE_PROJECTS if v == "public" else (v,))))
        return value

    def retry_policy(self, provider: str | None = None, region: str | None = None) -> RetryPolicy:
        policy = super().retry_policy(provider, region)
        return policy if self.retries is None else replace(policy, attempts=self.retries + 1)
