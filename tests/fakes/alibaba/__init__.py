"""A loopback fake of Alibaba Cloud's ECS, VPC and NLB RPC APIs, for the Alibaba driver's tests.

The Alibaba SDK (``alibabacloud_tea_openapi``) sends every call as ``POST /`` with the action
in the ``x-acs-action`` header and the API version in ``x-acs-version``; scalar parameters in
the query string, nested ones form-encoded in the body. :class:`AliFake` turns each request
into the path ``/<product>/<Action>`` (``/ecs/RunInstances``...) before routing, so routes,
``inject()`` and ``find()`` work on actions.

Every 2xx body is checked against the action's published response schema (unknown keys
rejected) and every error's (status, Code) against Alibaba's documented codes
(:mod:`tests.fakes.alibaba.validator`); a failure of either goes to ``schema_errors`` and the
client gets a 500, so a wrong fake fails loudly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.alibaba import signature
from tests.fakes.alibaba.routes_ecs import add_ecs_routes
from tests.fakes.alibaba.routes_net import add_net_routes
from tests.fakes.alibaba.state import AliState, Params, request_id
from tests.fakes.alibaba.validator import check_body, check_error, check_sdk_keys
from tests.fakes.server import LoopbackFake, Request, Response, Route, RouteTable

__all__ = ["PRODUCTS", "AliFake", "AliState", "alibaba_error"]

#: x-acs-version -> product
PRODUCTS = {"2014-05-26": "ecs", "2016-04-28": "vpc", "2022-04-30": "nlb"}


def alibaba_error(status: int, code: str, message: str) -> dict[str, Any]:
    """Alibaba's RPC error body (the SDK reads Code and Message)."""
    return {
        "RequestId": request_id(),
        "HostId": "127.0.0.1",
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}",
    }


def params(req: Request) -> Params:
    """Query string and form body as one flat dict (the SDK splits them by parameter kind)."""
    out = {k: v[0] for k, v in req.query.items() if v}
    if isinstance(req.body, str) and req.body:
        out.update(parse_qsl(req.body, keep_blank_values=True))
    elif isinstance(req.body, dict):
        out.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in req.body.items()})
    return out


def bind_action(state: AliState) -> Callable[[RouteTable, str, str, Any], None]:
    def bind(t: RouteTable, product: str, action: str, fn: Any) -> None:
        def handler(req: Request) -> Any:
            body = fn(state, params(req))
            return {"RequestId": request_id(), **body}

        t.add("POST", f"/{product}/{action}", handler, schema=f"{product}/{action}")

    return bind


def routes(state: AliState) -> RouteTable:
    t = RouteTable()
    bind = bind_action(state)
    add_ecs_routes(t, state, bind)
    add_net_routes(t, state, bind)
    return t


def _validate(route: Route, body: Any) -> None:
    if route.schema:
        check_body(route.schema, body)  # Alibaba's published schema, unknown keys rejected
        check_sdk_keys(route.schema, body)  # and nothing the SDK's model would drop


class AliFake(LoopbackFake):
    """Options: ``page_size`` (cap on every page), ``state_polls`` (reads an instance stays in each
    transitional status), ``job_polls`` (GetJobStatus ``Processing`` answers before ``Succeeded``),
    ``lb_polls`` (reads a new NLB stays ``Provisioning``), ``validate``."""

    def __init__(
        self,
        *,
        page_size: int = 100,
        state_polls: int = 0,
        job_polls: int = 0,
        lb_polls: int = 0,
        validate: bool = True,
        secrets: dict[str, str] | None = None,
    ) -> None:
        self.state = AliState(page_size=page_size, state_polls=state_polls, job_polls=job_polls, lb_polls=lb_polls)
        self.check_errors = validate
        #: AccessKey id -> secret: requests signed otherwise are refused (None: signatures unchecked)
        self.secrets = secrets
        #: why requests were refused for their signature
        self.signature_errors: list[str] = []
        #: (action path, status, Code) of every error answer, for tests
        self.errors: list[tuple[str, int, str]] = []
        super().__init__(routes(self.state), error_body=alibaba_error, validate=_validate if validate else None)

    def reset(self) -> None:
        """Drop every resource, recorded request, error and injected fault."""
        with self._lock:
            self.state.reset()
            self.requests.clear()
            self.errors.clear()
            self._faults.clear()

    def fail_next_load_balancer(self) -> None:
        """The next CreateLoadBalancer is accepted, then the NLB ends ``CreateFailed``."""
        with self._lock:
            self.state.fail_next_lb = True

    def fail_next_job(self, skip: int = 0) -> None:
        """The NLB job created after ``skip`` others ends ``Failed`` (after its Processing polls)."""
        with self._lock:
            self.state.fail_job_after = skip

    def fail_next_instance(self) -> None:
        """The next RunInstances is accepted, then the instance fails and ECS releases it."""
        with self._lock:
            self.state.fail_next_instance = True

    def calls(self, action: str) -> int:
        """How many requests of this action (``RunInstances`` or ``ecs/RunInstances``) were served."""
        suffix = "/" + action
        with self._lock:
            return sum(1 for r in self.requests if r.path.endswith(suffix))

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Response:
        lower = {k.lower(): v for k, v in headers.items()}
        parts = urlsplit(raw_path)
        query = dict(parse_qsl(parts.query))
        action = lower.get("x-acs-action") or query.get("Action") or ""
        product = PRODUCTS.get(lower.get("x-acs-version") or query.get("Version") or "", "unknown")
        path = f"/{product}/{action}"
        if self.secrets is not None:
            why = signature.check(method, raw_path, headers, raw, self.secrets)
            if why is not None:
                with self._lock:
                    self.signature_errors.append(f"{path}: {why}")
                # Alibaba's gateway code for this; it is a common code, absent from the per-product lists
                return Response(400, alibaba_error(400, "SignatureDoesNotMatch", why))
        resp = super().handle(method, f"{path}?{parts.query}" if parts.query else path, headers, raw)
        if resp.status >= 400 and isinstance(resp.body, dict):
            code = str(resp.body.get("Code", ""))
            with self._lock:
                self.errors.append((path, resp.status, code))
            if self.check_errors and code != "fakeSchemaError":
                try:
                    check_error(path.lstrip("/"), resp.status, code)
                except ValueError as exc:
                    with self._lock:
                        self.schema_errors.append(str(exc))
        return resp
