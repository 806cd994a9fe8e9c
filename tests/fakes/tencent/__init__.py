"""A loopback fake of Tencent Cloud API 3.0 (CVM 2017-03-12, VPC 2017-03-12, CLB 2018-03-17).

Every call is ``POST /`` with the action in ``X-TC-Action`` and the service in the credential
scope of the ``TC3-HMAC-SHA256`` Authorization header. :class:`TencentFake` checks the signature
with the test secret, routes ``/<service>/<Action>`` on the generic :mod:`tests.fakes.server`,
checks the request against the action's published input (UnknownParameter, MissingParameter,
InvalidParameter), and answers ``{"Response": {..., "RequestId"}}``. Errors are HTTP 200 with
``Response.Error`` {Code, Message}, as the API sends them.

What it serves is checked against Tencent's published material (``data/``, see
``schema.py``): every 2xx body against the action's output schema (unknown keys and wrong types
fail; a missing ``output_required`` member is recorded in ``schema_warnings``) and through the
SDK's own response model with its "useless fields" warning as an error; every error code
against the product's documented list. A failed check answers HTTP 500 and lands in
``schema_errors``, so a test sees it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Any

from tests.fakes.server import LoopbackFake, Request, Response, Route, RouteTable
from tests.fakes.tencent import schema
from tests.fakes.tencent.routes_clb import add_clb_actions
from tests.fakes.tencent.routes_cvm import add_cvm_actions
from tests.fakes.tencent.routes_vpc import add_vpc_actions
from tests.fakes.tencent.state import ApiError, Call, TencentState

__all__ = ["SECRET_ID", "SECRET_KEY", "TencentFake", "TencentState"]

#: the credentials the fake accepts (anything else fails the signature check)
SECRET_ID, SECRET_KEY = "AKIDmcinfraFAKE0000000000000000000", "mcinfra-fake-secret-key-0000000000"
_SCOPE = re.compile(r"Credential=([^/]+)/(\d{4}-\d{2}-\d{2})/([a-z]+)/tc3_request")
_SIGNATURE = re.compile(r"Signature=([0-9a-f]{64})")
#: what an injected fault carries as its "reason": a Tencent error code
_FAULT_STATUS = 200


def tencent_error(status: int, code: str, message: str, request_id: str = "") -> dict[str, Any]:
    return {"Response": {"Error": {"Code": code, "Message": message}, "RequestId": request_id or "fake-error"}}


def _sign(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class TencentFake(LoopbackFake):
    """The server; ``page_size`` caps every page, ``polls`` is how many reads an instance stays in
    PENDING/STOPPING/... and how many DescribeTaskStatus polls a CLB task answers 2 (running)."""

    def __init__(self, *, page_size: int = 100, polls: int = 0, validate: bool = True) -> None:
        self.state = TencentState(page_size=page_size, polls=polls)
        self.actions: dict[tuple[str, str], Any] = {}
        add_vpc_actions(self.actions, self.state)
        add_cvm_actions(self.actions, self.state)
        add_clb_actions(self.actions, self.state)
        self.schema_warnings: list[str] = []
        self._check = validate
        table = RouteTable()
        for service, action in self.actions:
            table.add("POST", f"/{service}/{action}", self._dispatch, schema=f"{service}:{action}")
        table.add("POST", "/{service}/{action}", self._unknown_action)
        super().__init__(table, error_body=tencent_error, validate=self._validate if validate else None)

    # ------------------------------------------------------------ test helpers
    def reset(self) -> None:
        """Drop every resource, task, recorded request and injected fault."""
        with self._lock:
            self.state.reset()
            self.requests.clear()
            self._faults.clear()

    def fail(self, action: str, code: str, message: str = "injected failure", *, times: int = 1,
             skip: int = 0) -> None:
        """Answer the next ``times`` calls of ``action`` (after ``skip`` of them) with error ``code``."""
        self.inject("POST", rf"^/[a-z]+/{action}$", status=_FAULT_STATUS, reason=code, message=message,
                    times=times, skip=skip)

    def fail_async(self, action: str, message: str = "injected async failure") -> None:
        """Accept the next ``action`` and fail it afterwards: RunInstances -> LAUNCH_FAILED,
        Start/Stop/Reboot -> LatestOperationState FAILED, a CLB write -> task Status 1."""
        with self._lock:
            self.state.async_failures[action] = message

    def lose_reply(self, action: str, times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``action``, then answer ``InternalError`` as if the
        reply had been lost on the way back (the client cannot tell whether it happened)."""
        with self._lock:
            self.state.lost_replies[action] = self.state.lost_replies.get(action, 0) + times

    def calls(self, action: str) -> list[Request]:
        """Recorded requests of one action."""
        return self.find("POST", rf"/{action}$")

    # ------------------------------------------------------------ dispatch
    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Response:
        lower = {k.lower(): v for k, v in headers.items()}
        action = lower.get("x-tc-action", "")
        scope = _SCOPE.search(lower.get("authorization", ""))
        service = scope.group(3) if scope else "unknown"
        problem = self._auth_problem(method, raw_path, lower, raw, scope)
        if problem is not None:
            with self._lock:
                self.served += 1
            return self._finish(service, Response(200, tencent_error(200, *problem)))
        resp = super().handle(method, f"/{service}/{action}", headers, raw)
        return self._finish(service, resp)

    def _auth_problem(self, method: str, path: str, headers: dict[str, str], raw: bytes,
                      scope: re.Match[str] | None) -> tuple[str, str] | None:
        if method != "POST" or path != "/":
            return "InvalidAction", "API 3.0 takes POST / only"
        if scope is None:
            return "AuthFailure.SignatureFailure", "no TC3-HMAC-SHA256 credential scope"
        secret_id, date, service = scope.groups()
        if secret_id != SECRET_ID:
            return "AuthFailure.SecretIdNotFound", "The SecretId is not found"
        if service not in schema.SERVICES:
            return "InvalidAction", f"no service {service!r} here"
        if headers.get("x-tc-version") != schema.api_version(service):
            return "NoSuchVersion", f"{service} has no version {headers.get('x-tc-version')!r}"
        canonical = "\n".join([
            "POST", "/", "",
            f"content-type:{headers.get('content-type', '')}\nhost:{headers.get('host', '')}\n",
            "content-type;host", hashlib.sha256(raw).hexdigest(),
        ])
        to_sign = "\n".join(["TC3-HMAC-SHA256", headers.get("x-tc-timestamp", ""),
                             f"{date}/{service}/tc3_request", hashlib.sha256(canonical.encode()).hexdigest()])
        key = _sign(_sign(_sign(("TC3" + SECRET_KEY).encode(), date), service), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        got = _SIGNATURE.search(headers.get("authorization", ""))
        if got is None or not hmac.compare_digest(got.group(1), expected):
            return "AuthFailure.SignatureFailure", "The provided credentials could not be validated"
        return None

    def _finish(self, service: str, resp: Response) -> Response:
        """Errors: HTTP 200 with a RequestId and a documented code; every body plain application/json
        (the SDK reads Response.Error only under that exact content type)."""
        body = resp.body
        if isinstance(body, dict) and "Error" in body.get("Response", {}) and resp.status == 200:
            body["Response"]["RequestId"] = self.state.new_request_id()
            if self._check and service in schema.SERVICES:
                try:
                    schema.check_error(service, body)
                except schema.SchemaError as exc:
                    self.schema_errors.append(f"{service}: {exc}")
                    return Response(500, {"fakeSchemaError": str(exc)}, {"Content-Type": "application/json"})
        return Response(resp.status, body, {**resp.headers, "Content-Type": "application/json"})

    def _dispatch(self, req: Request) -> Any:
        service, action = req.path.strip("/").split("/")
        request_id = self.state.new_request_id()
        region_name = next((v for k, v in req.headers.items() if k.lower() == "x-tc-region"), "")
        try:
            schema.check_input(service, action, req.body)
            call = Call(service, action, req.body or {}, self.state.region(region_name), request_id)
            out = self.actions[(service, action)](call)
        except (ApiError, schema.InputError) as exc:
            return Response(200, tencent_error(200, exc.code, getattr(exc, "message", str(exc))))
        if self.state.lost_replies.get(action):
            self.state.lost_replies[action] -= 1
            return Response(200, tencent_error(200, "InternalError", "the reply was lost (injected)"))
        return {"Response": {**out, "RequestId": request_id}}

    def _unknown_action(self, req: Request) -> Any:
        return Response(200, tencent_error(200, "InvalidAction", f"The action {req.params['action']} is not found"))

    def _validate(self, route: Route, body: Any) -> None:
        if "Error" in body.get("Response", {}):
            return  # checked in _finish
        service, action = (route.schema or ":").split(":")
        self.schema_warnings.extend(f"{action}: {w}" for w in schema.check_output(service, action, body))
        schema.check_sdk_model(service, action, body)
