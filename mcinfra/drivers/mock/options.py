"""The mock connection options, typed (see docs/quickstart.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from mcinfra.drivers.kit import DriverOptions


class MockOptions(DriverOptions):
    latency: tuple[float, float] = Field(
        (0.0, 0.0), description="seconds before every call: a number, or [min, max] (drawn per call)"
    )
    fail_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of changing calls that fail (InjectedFault)")
    lost_reply_rate: float = Field(0.0, ge=0.0, le=1.0, description="share of changing calls whose reply is lost "
                                   "after the cloud acted (a retryable CloudError ReplyLost)")
    seed: int | str | None = Field(None, description="seed of the latency, fault and id draws")
    state_path: str | None = Field(None, description="a JSON file that keeps the cloud (shared by processes)")
    cloud_id: str = Field("", max_length=64, description="which in-memory mock cloud: connections with the same id "
                          "share resources; another id is a cloud of its own (tests)")

    @field_validator("latency", mode="before")
    @classmethod
    def _latency(cls, value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = (value, value)
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError("latency must be seconds or [min, max]")
        lo, hi = (float(v) for v in value)
        if not 0 <= lo <= hi:
            raise ValueError("latency needs 0 <= min <= max")
        return (lo, hi)
