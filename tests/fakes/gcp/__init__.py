"""A loopback fake of the Compute Engine v1 REST API, for the GCP driver's tests.

``GcpFake`` is a :class:`tests.fakes.server.LoopbackFake` with the compute routes the
driver uses, state kept in :class:`ComputeState`, Google's JSON error format, and every
2xx response parsed with the SDK's own proto-plus message type (``ignore_unknown_fields=
False``) before it is sent, so a shape the real client could not read fails loudly.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.gcp.routes_net import add_catalog_routes, add_network_routes, add_operation_routes
from tests.fakes.gcp.routes_vm import add_forwarding_rule_defaults, add_instance_routes, add_lb_routes
from tests.fakes.gcp.state import ComputeState
from tests.fakes.server import LoopbackFake, Route, RouteTable

__all__ = ["ComputeState", "GcpFake", "google_error", "routes"]


def google_error(status: int, reason: str, message: str) -> dict[str, Any]:
    """Google's JSON error body, as googleapis.com returns it."""
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
        }
    }


def routes(state: ComputeState) -> RouteTable:
    t = RouteTable()
    add_operation_routes(t, state)
    add_catalog_routes(t, state)
    add_network_routes(t, state)
    add_instance_routes(t, state)
    add_lb_routes(t, state)
    add_forwarding_rule_defaults(state, t)
    return t


def _validator() -> Any:
    from google.cloud import compute_v1

    def validate(route: Route, body: Any) -> None:
        if route.schema:
            getattr(compute_v1, route.schema).from_json(json.dumps(body), ignore_unknown_fields=False)

    return validate


class GcpFake(LoopbackFake):
    def __init__(
        self, *, page_size: int = 500, op_polls: int = 0, transitions: bool = False, validate: bool = True
    ) -> None:
        self.state = ComputeState(page_size=page_size, op_polls=op_polls, transitions=transitions)
        super().__init__(routes(self.state), error_body=google_error, validate=_validator() if validate else None)

    def reset(self) -> None:
        """Drop every resource, operation, recorded request and injected fault."""
        with self._lock:
            self.state.reset()
            self.requests.clear()
            self._faults.clear()

    def fail_operation(self, op_type: str, code: str, message: str, http_status: int = 400) -> None:
        """Make the next operation of ``op_type`` (insert, delete, stop...) finish with an error."""
        with self._lock:
            self.state.op_errors[op_type] = (code, message, http_status)
