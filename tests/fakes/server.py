"""A generic loopback HTTP fake for testing cloud drivers through their SDKs' real clients.

One :class:`LoopbackFake` serves one provider's REST API on ``127.0.0.1`` (port 0, so the
OS picks a free one) from a :class:`RouteTable`: method + path template -> handler. It
records every request (method, path, query, JSON body) so tests can assert what the SDK
sent, and can be told to fail chosen calls (:meth:`LoopbackFake.inject`).

A provider package (``tests/fakes/gcp`` is the first) keeps the cloud's state, registers
its routes on a table, and says how errors look on the wire (``error_body``) and how to
check the responses it serves (``validate``). See docs/testing.md.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    headers: dict[str, str]
    #: the values of the route template's ``{placeholders}``
    params: dict[str, str] = field(default_factory=dict)
    route: str = ""

    def q(self, key: str, default: str | None = None) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(key)
        return values[0] if values else default


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """Raised by a handler to answer with an error in the provider's error format."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


Handler = Callable[[Request], Any]


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    #: free-form tag the provider's ``validate`` hook uses (e.g. the response schema name)
    schema: str | None = None


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def compile_template(template: str) -> re.Pattern[str]:
    """``/a/{x}/b`` -> a regex where ``{x}`` matches one path segment."""
    out, pos = [], 0
    for m in _PLACEHOLDER.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


class RouteTable:
    """Method + path template -> handler. The first route that matches wins."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, schema: str | None = None) -> None:
        self.routes.append(Route(method.upper(), template, compile_template(template), handler, schema))

    def route(self, method: str, template: str, *, schema: str | None = None) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(method, template, fn, schema=schema)
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for r in self.routes:
            if r.method == method:
                m = r.regex.match(path)
                if m:
                    return r, m.groupdict()
        return None


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    reason: str
    message: str
    times: int
    skip: int


def _default_error_body(status: int, reason: str, message: str) -> Any:
    return {"error": {"code": status, "reason": reason, "message": message}}


class LoopbackFake:
    """The server. Use as a context manager, or ``start()``/``stop()``.

    Handlers run one at a time (a lock serialises them), so provider state needs no locking
    of its own even though the HTTP server is threaded.
    """

    def __init__(
        self,
        routes: RouteTable,
        *,
        error_body: Callable[[int, str, str], Any] = _default_error_body,
        validate: Callable[[Route, Any], None] | None = None,
    ) -> None:
        self.routes = routes
        self.error_body = error_body
        self.validate = validate
        self.requests: list[Request] = []
        self.served = 0
        self.validated = 0
        #: responses that failed ``validate`` (each answered with a 500 instead)
        self.schema_errors: list[str] = []
        self._faults: list[Fault] = []
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LoopbackFake:
        fake = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two sends: with Nagle on, a keep-alive client waits for
            # the delayed ACK (~40 ms) on every answer
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                resp = fake.handle(self.command, self.path, dict(self.headers.items()), raw)
                data = b"" if resp.body is None else json.dumps(resp.body).encode()
                self.send_response(resp.status)
                headers = {"Content-Type": "application/json; charset=UTF-8", **resp.headers}
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="loopback-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> LoopbackFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ test helpers
    def inject(
        self,
        method: str,
        path_regex: str,
        *,
        status: int = 500,
        reason: str = "backendError",
        message: str = "injected failure",
        times: int = 1,
        skip: int = 0,
    ) -> None:
        """Make the next ``times`` requests matching (after ``skip`` matching ones) fail."""
        with self._lock:
            self._faults.append(Fault(method.upper(), re.compile(path_regex), status, reason, message, times, skip))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def find(self, method: str, path_regex: str) -> list[Request]:
        """Recorded requests with this method whose path matches ``path_regex`` (re.search)."""
        rx = re.compile(path_regex)
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and rx.search(r.path)]

    # ------------------------------------------------------------ dispatch
    def _fault_for(self, method: str, path: str) -> Fault | None:
        for f in self._faults:
            if f.method == method and f.path.search(path):
                if f.skip > 0:
                    f.skip -= 1
                    continue
                f.times -= 1
                if f.times <= 0:
                    self._faults.remove(f)
                return f
        return None

    def handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Response:
        parts = urlsplit(raw_path)
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        req = Request(method, parts.path, parse_qs(parts.query, keep_blank_values=True), body, headers)
        with self._lock:
            self.requests.append(req)
            self.served += 1
            fault = self._fault_for(method, parts.path)
            if fault is not None:
                return Response(fault.status, self.error_body(fault.status, fault.reason, fault.message))
            found = self.routes.match(method, parts.path)
            if found is None:
                msg = f"no route for {method} {parts.path}"
                return Response(404, self.error_body(404, "notFound", msg))
            route, params = found
            req.params, req.route = params, route.template
            try:
                out = route.handler(req)
            except HttpError as exc:
                return Response(exc.status, self.error_body(exc.status, exc.reason, exc.message))
            resp = out if isinstance(out, Response) else Response(200, out)
            if self.validate is not None and 200 <= resp.status < 300 and resp.body is not None:
                try:
                    self.validate(route, resp.body)
                except Exception as exc:  # a fake bug: make it loud, never a silent bad shape
                    self.schema_errors.append(f"{route.template}: {exc}")
                    return Response(500, self.error_body(500, "fakeSchemaError", str(exc)))
                self.validated += 1
            return resp
