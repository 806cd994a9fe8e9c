"""State of the fake Alibaba Cloud account: resources, ids, paging, instance and job progress.

Resources are kept as the dicts the API returns (ECS/VPC/NLB member names), so answers are
copies of them. Parameters arrive flat (``ZoneMappings.1.VSwitchId=...``) from the query string
and the form body; :func:`items` and :func:`sub` read the nested ones back.
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import HttpError

Params = dict[str, str]
#: pseudo-status of an instance that failed after acceptance: gone on the next read
RELEASED = "_released"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")


def now_seconds() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_id() -> str:
    return str(uuid.uuid4()).upper()


def fail(status: int, code: str, message: str) -> HttpError:
    """An error answer: (HTTP status, Alibaba ``Code``, ``Message``)."""
    return HttpError(status, code, message)


def need(p: Params, key: str, action_code: str = "MissingParameter") -> str:
    value = p.get(key)
    if not value:
        raise fail(
            400,
            action_code,
            f'The input parameter "{key}" that is mandatory for processing this request is not supplied.',
        )
    return value


def items(p: Params, name: str) -> list[Any]:
    """A list parameter in any of the SDK's encodings: a JSON array string (``InstanceIds='["i-1"]'``),
    ``Name.1=a&Name.2=b``, or ``Name.1.Key=v`` (a list of dicts)."""
    raw = p.get(name)
    if raw:
        try:
            value = json.loads(raw)
        except ValueError:
            return [raw]
        return value if isinstance(value, list) else [value]
    found: dict[int, Any] = {}
    prefix = name + "."
    for key, value in p.items():
        if not key.startswith(prefix):
            continue
        index, _, rest = key[len(prefix) :].partition(".")
        if not index.isdigit():
            continue
        if rest:
            entry = found.setdefault(int(index), {})
            if isinstance(entry, dict):
                entry[rest] = value
        else:
            found[int(index)] = value
    return [found[i] for i in sorted(found)]


def sub(p: Params, name: str) -> dict[str, str]:
    """An object parameter sent flat: ``HealthCheckConfig.HealthCheckInterval=10`` -> {...}."""
    raw = p.get(name)
    if raw:
        try:
            value = json.loads(raw)
            if isinstance(value, dict):
                return {k: v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}
        except ValueError:
            pass
    prefix = name + "."
    return {k[len(prefix) :]: v for k, v in p.items() if k.startswith(prefix)}


def as_bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.lower() == "true"


def as_int(value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise fail(400, "InvalidParameter", f"The specified parameter value {value!r} is not valid.") from None


class AliState:
    """The account. ``page_size`` caps pages; ``state_polls``: reads an instance stays in each
    transitional status (Pending, Starting, Stopping); ``job_polls``: GetJobStatus answers
    ``Processing`` this many times before ``Succeeded``; ``lb_polls``: GetLoadBalancerAttribute
    reads a new NLB stays ``Provisioning``."""

    def __init__(self, *, page_size: int = 100, state_polls: int = 0, job_polls: int = 0, lb_polls: int = 0) -> None:
        self.page_size = page_size
        self.state_polls = state_polls
        self.job_polls = job_polls
        self.lb_polls = lb_polls
        self.reset()

    def reset(self) -> None:
        self.vpcs: dict[str, dict[str, Any]] = {}
        self.vswitches: dict[str, dict[str, Any]] = {}
        self.sgs: dict[str, dict[str, Any]] = {}
        #: security group id -> its Permission dicts
        self.rules: dict[str, list[dict[str, Any]]] = {}
        self.keypairs: dict[str, dict[str, Any]] = {}
        self.instances: dict[str, dict[str, Any]] = {}
        #: instance id -> statuses still to pass through (one per read), then the last one stays
        self.progress: dict[str, list[str]] = {}
        self.lbs: dict[str, dict[str, Any]] = {}
        self.lb_left: dict[str, int] = {}
        self.server_groups: dict[str, dict[str, Any]] = {}
        #: server group id -> its Server dicts
        self.servers: dict[str, list[dict[str, Any]]] = {}
        self.listeners: dict[str, dict[str, Any]] = {}
        #: job id -> polls left before Succeeded
        self.jobs: dict[str, int] = {}
        #: jobs that end "Failed" (not among the published values, Succeeded and Processing: how a
        #: job that fails after acceptance shows is undocumented; the driver treats any other value
        #: as a failure)
        self.failed_jobs: set[str] = set()
        #: fail the job created after this many more (None: none)
        self.fail_job_after: int | None = None
        #: the next NLB fails after CreateLoadBalancer accepted it (LoadBalancerStatus CreateFailed)
        self.fail_next_lb = False
        #: the next instance fails after RunInstances accepted it (ECS releases it)
        self.fail_next_instance = False
        self._seq = itertools.count(1)
        self._public = ipaddress.ip_address("47.96.10.10")

    # ------------------------------------------------------------ ids and addresses
    def new_id(self, prefix: str) -> str:
        return f"{prefix}-bp1{next(self._seq):017x}"

    def public_ip(self) -> str:
        self._public += 1
        return str(self._public)

    def private_ip(self, vswitch: dict[str, Any]) -> str:
        net = ipaddress.ip_network(vswitch["CidrBlock"])
        used = set(vswitch.setdefault("_used", []))
        # Alibaba keeps the first three and the last addresses of a vSwitch for itself
        for host in itertools.islice(net.hosts(), 3, None):
            if str(host) not in used:
                vswitch["_used"].append(str(host))
                return str(host)
        raise fail(403, "InvalidVSwitchId.IpNotEnough", "The specified VSwitch has not enough IpAddress.")

    # ------------------------------------------------------------ paging
    def page(
        self, p: Params, entries: list[Any], default_size: int = 10, max_size: int = 100
    ) -> tuple[list[Any], dict[str, Any]]:
        """PageNumber/PageSize paging: (this page's entries, the paging members of the answer)."""
        number = max(as_int(p.get("PageNumber"), 1), 1)
        size = min(as_int(p.get("PageSize"), default_size), max_size, self.page_size)
        start = (number - 1) * size
        return entries[start : start + size], {"PageNumber": number, "PageSize": size, "TotalCount": len(entries)}

    def token_page(
        self, p: Params, entries: list[Any], default_size: int = 20, max_size: int = 100, size_key: str = "MaxResults"
    ) -> tuple[list[Any], dict[str, Any]]:
        """NextToken/MaxResults paging; the token is the offset of the next page."""
        size = min(as_int(p.get(size_key), default_size), max_size, self.page_size)
        token = p.get("NextToken") or "0"
        if not token.isdigit():
            raise fail(400, "InValidParameter.NextToken", "The specified parameter NextToken is not valid.")
        start = int(token)
        chunk = entries[start : start + size]
        nxt = str(start + size) if start + size < len(entries) else ""
        return chunk, {"NextToken": nxt, size_key: size, "TotalCount": len(entries)}

    # ------------------------------------------------------------ instances
    def advance(self, instance_id: str) -> dict[str, Any] | None:
        """One read of an instance: it moves one step along its pending statuses (None: the
        instance failed after RunInstances accepted it and ECS released it)."""
        inst = self.instances[instance_id]
        todo = self.progress.get(instance_id)
        if todo:
            inst["Status"] = todo.pop(0)
            if not todo:
                del self.progress[instance_id]
        if inst["Status"] == RELEASED:
            del self.instances[instance_id]
            return None
        return inst

    def move(self, instance_id: str, via: list[str], final: str) -> None:
        steps = [s for s in via for _ in range(self.state_polls)] + [final]
        inst = self.instances[instance_id]
        inst["Status"] = steps[0]
        self.progress[instance_id] = steps[1:]
        if not self.progress[instance_id]:
            del self.progress[instance_id]
        inst["_final"] = final

    @staticmethod
    def settle(resource: dict[str, Any]) -> dict[str, Any]:
        """One read of a VPC or vSwitch: ``Pending`` for ``state_polls`` reads, then ``Available``."""
        if resource.get("Status") == "Pending":
            if resource.get("_left", 0) > 0:
                resource["_left"] -= 1
            else:
                resource["Status"] = "Available"
        return resource

    # ------------------------------------------------------------ NLB jobs
    def new_job(self) -> str:
        job = str(uuid.uuid4())
        self.jobs[job] = self.job_polls
        if self.fail_job_after is not None:
            if self.fail_job_after == 0:
                self.failed_jobs.add(job)
                self.fail_job_after = None
            else:
                self.fail_job_after -= 1
        return job
