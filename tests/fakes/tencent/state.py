"""State of the fake Tencent Cloud account: per-region resources, async work, paging, errors."""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakes.tencent import catalog

#: the API's page size when the request gives no Limit, and its largest Limit
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
_ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz"


class ApiError(Exception):
    """An error the API answers with (HTTP 200, ``Response.Error``); ``code`` must be documented."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def now() -> str:
    """Tencent's time format in most bodies: ``2020-09-22 00:00:00``."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Call:
    """One action as a handler sees it."""

    service: str
    action: str
    params: dict[str, Any]
    region: RegionState
    request_id: str

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)

    def require(self, key: str) -> Any:
        value = self.params.get(key)
        if value in (None, "", []):
            raise ApiError("MissingParameter", f"The request is missing a required parameter `{key}`")
        return value


@dataclass
class Transition:
    """An instance on its way to ``final``: ``left`` more reads show the current state."""

    left: int
    final: str | None  # None: the instance disappears (terminated)
    error: str | None = None


@dataclass
class Task:
    """A CLB async task, polled with DescribeTaskStatus: 2 running, then 0 success / 1 failed."""

    load_balancer_id: str
    left: int
    fail: str | None = None
    done: bool = False
    on_success: Any = None


@dataclass
class RegionState:
    name: str
    vpcs: dict[str, dict[str, Any]] = field(default_factory=dict)
    subnets: dict[str, dict[str, Any]] = field(default_factory=dict)
    security_groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: security group id -> {"Version": int, "Ingress": [...], "Egress": [...]}
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)
    keypairs: dict[str, dict[str, Any]] = field(default_factory=dict)
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)
    transitions: dict[str, Transition] = field(default_factory=dict)
    load_balancers: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: load balancer id -> listeners (each with its "Targets" kept beside, see clb routes)
    listeners: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: listener id -> registered targets [{InstanceId, Port, Weight, RegisteredTime}]
    targets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class TencentState:
    def __init__(self, *, page_size: int = MAX_LIMIT, polls: int = 0) -> None:
        #: the most items a page holds, whatever Limit asks (tests set it small)
        self.page_size = page_size
        #: reads an instance stays PENDING/STOPPING/... and polls a CLB task answers "running"
        self.polls = polls
        self.reset()

    def reset(self) -> None:
        self.regions: dict[str, RegionState] = {}
        self.tasks: dict[str, Task] = {}
        #: failures to apply after acceptance: action -> message (RunInstances -> LAUNCH_FAILED, CLB tasks -> 1)
        self.async_failures: dict[str, str] = {}
        #: RunInstances ClientToken -> the instance ids it made (a retry gets the same answer)
        self.client_tokens: dict[str, list[str]] = {}
        #: action -> how many of its next calls are carried out but answered InternalError
        self.lost_replies: dict[str, int] = {}
        self._ids = itertools.count(1)
        self._requests = itertools.count(1)
        self._public = ipaddress.ip_address("119.28.10.10")

    # ------------------------------------------------------------ ids and lookups
    def region(self, name: str) -> RegionState:
        if name not in catalog.REGIONS:
            raise ApiError("UnsupportedRegion", f"The region `{name}` is not supported")
        return self.regions.setdefault(name, RegionState(name))

    def new_id(self, prefix: str) -> str:
        # ids look like Tencent's (8 lowercase letters/digits) and never repeat within a run
        digest = hashlib.sha256(f"{prefix}{next(self._ids)}".encode()).digest()
        return f"{prefix}-" + "".join(_ID_CHARS[b % 36] for b in digest[:8])

    def new_request_id(self) -> str:
        n = next(self._requests)
        return f"{n:08x}-fa7e-4c1d-9e0b-{n:012x}"

    def public_ip(self) -> str:
        self._public += 1
        return str(self._public)

    def take_failure(self, action: str) -> str | None:
        return self.async_failures.pop(action, None)


def page(call: Call, items: list[Any], page_size: int) -> tuple[int, list[Any]]:
    """Offset/Limit paging as the API does it (VPC sends them as strings): (total, this page)."""
    try:
        offset = int(call.get("Offset", 0) or 0)
        limit = int(call.get("Limit", DEFAULT_LIMIT) or DEFAULT_LIMIT)
    except (TypeError, ValueError):
        raise ApiError("InvalidParameterValue", "Offset and Limit must be numbers") from None
    if offset < 0 or not 0 < limit <= MAX_LIMIT:
        raise ApiError("InvalidParameterValue.Range", f"Limit must be in 1..{MAX_LIMIT} and Offset >= 0")
    limit = min(limit, page_size)
    return len(items), items[offset : offset + limit]


def filtered(call: Call, items: list[dict[str, Any]], fields: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply ``Filters`` [{Name, Values}]: ``fields`` maps a filter name to a getter of the item."""
    out = items
    for f in call.get("Filters") or []:
        name, values = f.get("Name"), f.get("Values") or []
        getter = fields.get(name)
        if getter is None:
            raise ApiError("InvalidParameterValue", f"The filter `{name}` is not supported")

        def keep(item: dict[str, Any], getter: Any = getter, values: list[str] = values) -> bool:
            got = getter(item)
            got = got if isinstance(got, list) else [got]
            return any(str(g) in values for g in got)

        out = [i for i in out if keep(i)]
    return out
