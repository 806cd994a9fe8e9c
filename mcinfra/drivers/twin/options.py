"""The twin connection options, typed (see docs/twin.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from mcinfra.drivers.kit import DriverOptions


class TwinOptions(DriverOptions):
    state_dir: Path | None = Field(
        None, description="the region's state directory (default $MCINFRA_HOME/twin/<region>)"
    )
    resume_changes_public_ip: bool = Field(True, description="a resumed VM gets a new public address")

    @field_validator("rate_limit", "rate_burst")
    @classmethod
    def _no_rate_limit(cls, value: Any) -> Any:
        # The twin's "API" is this machine's kernel (ip, nft, namespaces): there is no quota to
        # respect, so its connections are never rate-limited; a limit set here would be a lie.
        if value:
            raise ValueError("the twin is a local cloud with no API quota: it takes no rate limit "
                             "(leave it out, or 0)")
        return value

    @field_validator("state_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return value or None
