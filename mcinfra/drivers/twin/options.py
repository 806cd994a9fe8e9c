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

    @field_validator("state_dir", mode="before")
    @classmethod
    def _empty_is_default(cls, value: Any) -> Any:
        return value or None
