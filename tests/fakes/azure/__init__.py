"""A loopback fake of Azure Resource Manager (Compute, Network, Resources), for the Azure driver's tests.

``AzureFake`` is a :class:`tests.fakes.server.LoopbackFake` serving the ARM REST paths the driver
uses, with ARM's long-running-operation protocol (see ``state.py``), ``nextLink`` paging, and the
ARM error envelope. Every answer is checked against Azure's published material (``validator.py``):
a 2xx body against the response schema of the api-version the SDK sent, a status against the
operation's documented ones, an error code against the documented codes. A failed check is a
fake bug: it is recorded in ``schema_errors`` and answered with a 500.
"""

from __future__ import annotations

import re
from typing import Any

from tests.fakes.azure import validator
from tests.fakes.azure.routes_compute import add_arm_routes, add_compute_routes
from tests.fakes.azure.routes_network import add_network_routes
from tests.fakes.azure.state import SUBSCRIPTION, ArmState
from tests.fakes.server import LoopbackFake, Response, RouteTable

__all__ = ["SUBSCRIPTION", "ArmState", "AzureFake", "arm_error_body"]

#: routes whose answers no staged spec describes (resource groups: the SDK's 2025-04-01
#: resources spec was not available), left unvalidated on purpose
UNVALIDATED = {None}
_OP_URL = re.compile(r"/operations/([0-9a-f-]{36})")


def arm_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """The ARM error envelope (common-api-details.md)."""
    return {"error": {"code": code, "message": message}}


class AzureFake(LoopbackFake):
    def __init__(self, *, page_size: int = 100, op_polls: int = 0, validate: bool = True) -> None:
        self.state = ArmState(page_size=page_size, op_polls=op_polls)
        table = RouteTable()
        add_arm_routes(table, self.state)
        net = add_network_routes(table, self.state)
        add_compute_routes(table, self.state, net)
        super().__init__(table, error_body=arm_error_body)
        self.check = validate
        #: operation id -> (operation id of the request that started it, api-version)
        self._origin: dict[str, tuple[str, str]] = {}
        #: (method, path, status, header names, operation id) of every answer, to compare with recorded traffic
        self.answers: list[tuple[str, str, int, tuple[str, ...], str | None]] = []
        #: the 2xx bodies served, by operation id (the last few of each), for checks against the SDK's models
        self.bodies: dict[str, list[Any]] = {}

    def reset(self) -> None:
        """Drop every resource, operation, recorded request and injected fault."""
        with self._lock:
            self.state.reset()
            self.requests.clear()
            self._faults.clear()
            self._origin.clear()
            self.answers.clear()
            self.bodies.clear()

    def add_group(self, name: str, location: str = "eastus") -> None:
        with self._lock:
            self.state.groups[name.lower()] = {
                "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{name}", "name": name,
                "type": "Microsoft.Resources/resourceGroups", "location": location,
                "properties": {"provisioningState": "Succeeded"}}

    def end_next(self, method: str, what: str, status: str = "Failed", code: str = "InternalServerError",
                 message: str = "injected operation failure", times: int = 1) -> None:
        """Make the next ``times`` long-running operations of ``"<METHOD> <what>"`` (``PUT
        virtualMachines``, ``DELETE networkInterfaces``, ``POST deallocate``...) end ``status``
        (Failed or Canceled) after being accepted."""
        with self._lock:
            self.state.outcomes.setdefault(f"{method.upper()} {what}", []).extend([(status, code, message)] * times)

    # ------------------------------------------------------------ validation of every answer
    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Response:
        # one lock around the answer and its check: the SDK's LRO pollers run in their own threads,
        # so "the last recorded request" is only this answer's request while the lock is held
        with self._lock:
            resp = super().handle(method, raw_path, headers, raw)
            req = self.requests[-1]
            found = self.routes.match(method, req.path)
            op_id = found[0].schema if found else None
            self.answers.append((method, req.path, resp.status, tuple(sorted(resp.headers)), op_id))
            if op_id and 200 <= resp.status < 300 and resp.body is not None:
                kept = self.bodies.setdefault(op_id, [])
                kept[:] = [*kept[-4:], resp.body]
            if not self.check:
                return resp
            try:
                self._check(req.q("api-version") or "", found[0].schema if found else None, req.params, resp)
                self.validated += 1
            except validator.SchemaViolation as exc:
                self.schema_errors.append(f"{method} {req.path}: {exc}")
                return Response(500, arm_error_body(500, "InternalServerError", f"fake answer invalid: {exc}"))
        return resp

    def _check(self, api: str, op_id: str | None, params: dict[str, str], resp: Response) -> None:
        if resp.status >= 400:
            validator.check_error(resp.status, resp.body)
            return
        if op_id == "operation":
            origin = self._origin.get(params.get("op", ""))
            if isinstance(resp.body, dict) and "status" in resp.body:
                validator.check_operation_status(resp.body)
                error = resp.body.get("error")
                if error and error["code"] not in validator.error_codes():
                    raise validator.SchemaViolation(f"undocumented error code {error['code']!r} in an operation")
            elif resp.body is not None and origin is not None:
                validator.check_response(origin[0], origin[1], 200, resp.body)
            return
        if op_id in UNVALIDATED:
            return
        validator.check_response(op_id, api, resp.status, resp.body)
        started = _OP_URL.search(resp.headers.get("Azure-AsyncOperation", ""))
        if started:
            self._origin[started.group(1)] = (op_id, api)
