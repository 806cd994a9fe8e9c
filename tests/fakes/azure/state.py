"""State of the fake Azure subscription: ARM resources, long-running operations, paging, errors.

Resources are kept as the JSON Azure returns, keyed by their lower-cased ARM id (ARM ids are
case-insensitive). Every mutation is a long-running operation as ARM runs it: the PUT/DELETE/POST
answers at once (201/202 with ``Azure-AsyncOperation``, plus ``Location`` for DELETE and POST),
the operation stays ``InProgress`` for ``op_polls`` polls, then ends ``Succeeded`` (or
``Failed``/``Canceled`` when a test asked for it), and only then is the change applied.
"""

from __future__ import annotations

import ipaddress
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from tests.fakes.server import HttpError, Request, Response

SUBSCRIPTION = "00000000-0000-0000-0000-00000000c0de"


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def arm_error(status: int, code: str, message: str) -> HttpError:
    return HttpError(status, code, message)


def not_found(kind: str, name: str, rg: str) -> HttpError:
    return arm_error(404, "ResourceNotFound",
                     f"The Resource '{kind}/{name}' under resource group '{rg}' was not found.")


def bad(message: str, code: str = "InvalidParameter") -> HttpError:
    return arm_error(400, code, message)


def rg_prefix(sub: str, rg: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}"


@dataclass
class Operation:
    """One long-running operation: polls left before it ends, how it ends, what it then does."""

    id: str
    provider: str  # "Microsoft.Network" or "Microsoft.Compute"
    location: str
    polls_left: int
    outcome: tuple[str, str, str] | None  # (status, error code, message) when not Succeeded
    apply: Callable[[], Any]
    undo: Callable[[], Any] | None = None
    status: str = "InProgress"
    result: Any = None
    started: str = field(default_factory=now)
    ended: str | None = None


class ArmState:
    def __init__(self, *, page_size: int = 100, op_polls: int = 0) -> None:
        #: items per list page (the fake's; ARM's is server-chosen)
        self.page_size = page_size
        #: polls an operation answers InProgress before it ends
        self.op_polls = op_polls
        self.reset()

    def reset(self) -> None:
        self.resources: dict[str, dict[str, Any]] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.ops: dict[str, Operation] = {}
        #: "<METHOD> <type>" (e.g. "PUT virtualMachines", "POST deallocate") -> outcomes for the next ones
        self.outcomes: dict[str, list[tuple[str, str, str]]] = {}
        #: VM id -> power state ("running", "deallocated", "stopped"...)
        self.power: dict[str, str] = {}
        #: VM id -> transitional power state shown while an action runs
        self.transit: dict[str, str] = {}
        self._ips = itertools.count(10)
        self._used: dict[str, set[str]] = {}

    # ------------------------------------------------------------ resources
    def get(self, rid: str) -> dict[str, Any] | None:
        return self.resources.get(rid.lower())

    def need(self, rid: str, what: str = "Resource") -> dict[str, Any]:
        res = self.get(rid)
        if res is None:
            parts = rid.strip("/").split("/")
            rg = parts[3] if len(parts) > 3 else "?"
            raise not_found(f"{parts[-3]}/{parts[-2]}" if len(parts) > 2 else what, parts[-1], rg)
        return res

    def put(self, res: dict[str, Any]) -> None:
        self.resources[res["id"].lower()] = res

    def drop(self, rid: str) -> None:
        self.resources.pop(rid.lower(), None)

    def of_type(self, sub: str, rg: str, rtype: str) -> list[dict[str, Any]]:
        prefix = rg_prefix(sub, rg).lower() + "/providers/"
        return [r for k, r in self.resources.items() if k.startswith(prefix) and r.get("type") == rtype]

    def check_group(self, sub: str, rg: str) -> None:
        if rg.lower() not in self.groups:
            raise arm_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")

    # ------------------------------------------------------------ addresses
    def private_ip(self, subnet_prefix: str, key: str) -> str:
        used = self._used.setdefault(key, set())
        for i, host in enumerate(ipaddress.ip_network(subnet_prefix).hosts()):
            if i < 3:
                continue  # Azure reserves .1-.3 of every subnet
            if str(host) not in used:
                used.add(str(host))
                return str(host)
        raise arm_error(400, "InvalidParameter", f"Subnet {key} has no free address.")

    def free_ip(self, key: str, ip: str | None) -> None:
        if ip:
            self._used.get(key, set()).discard(ip)

    def public_ip(self) -> str:
        return f"20.41.{next(self._ips) // 250}.{next(self._ips) % 250 + 1}"

    # ------------------------------------------------------------ operations
    def next_outcome(self, key: str) -> tuple[str, str, str] | None:
        queue = self.outcomes.get(key)
        return queue.pop(0) if queue else None

    def start_op(self, req: Request, provider: str, key: str, apply: Callable[[], Any],
                 undo: Callable[[], Any] | None = None) -> Operation:
        op = Operation(str(uuid.uuid4()), provider, "eastus", self.op_polls, self.next_outcome(key), apply, undo)
        self.ops[op.id] = op
        return op

    def finish(self, op: Operation) -> None:
        op.ended = now()
        if op.outcome is None:
            op.status = "Succeeded"
            op.result = op.apply()
        else:
            op.status = op.outcome[0]
            if op.undo is not None:
                op.undo()

    def poll(self, op_id: str) -> Operation:
        op = self.ops.get(op_id)
        if op is None:
            raise arm_error(404, "NotFound", f"Operation {op_id} was not found.")
        if op.status == "InProgress":
            if op.polls_left > 0:
                op.polls_left -= 1
            else:
                self.finish(op)
        return op

    def op_urls(self, req: Request, op: Operation, sub: str) -> dict[str, str]:
        base = f"http://{req.headers.get('Host', '127.0.0.1')}/subscriptions/{sub}/providers/{op.provider}" \
               f"/locations/{op.location}"
        api = req.q("api-version") or ""
        if op.provider == "Microsoft.Network":
            return {"Azure-AsyncOperation": f"{base}/operations/{op.id}?api-version={api}",
                    "Location": f"{base}/operationResults/{op.id}?api-version={api}"}
        # compute hands out the same operation URL for both, the Location one with monitor=true
        return {"Azure-AsyncOperation": f"{base}/operations/{op.id}?p=fake&api-version={api}",
                "Location": f"{base}/operations/{op.id}?p=fake&monitor=true&api-version={api}"}

    def accepted_put(self, req: Request, op: Operation, sub: str, body: dict[str, Any], created: bool) -> Response:
        """201 (new) / 200 (update) with the resource as it is now and where to poll (as the
        recordings show: Azure-AsyncOperation and Retry-After, no Location)."""
        urls = self.op_urls(req, op, sub)
        return Response(201 if created else 200, body,
                        {"Azure-AsyncOperation": urls["Azure-AsyncOperation"], "Retry-After": "0"})

    def accepted(self, req: Request, op: Operation, sub: str) -> Response:
        """202 for DELETE and POST actions: empty body, both URLs."""
        return Response(202, None, {**self.op_urls(req, op, sub), "Retry-After": "0"})

    # ------------------------------------------------------------ paging
    def page(self, req: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
        start = int(req.q("$skiptoken") or 0)
        chunk = items[start : start + self.page_size]
        out: dict[str, Any] = {"value": chunk}
        if start + self.page_size < len(items):
            query = {k: v[0] for k, v in req.query.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(start + self.page_size)
            out["nextLink"] = f"http://{req.headers.get('Host', '127.0.0.1')}{req.path}?{urlencode(query)}"
        return out
