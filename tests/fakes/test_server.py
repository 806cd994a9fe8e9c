"""The generic loopback fake, with a toy route table (no cloud SDK involved)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.fakes.server import HttpError, LoopbackFake, Request, Response, Route, RouteTable, compile_template


def _call(fake: LoopbackFake, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        fake.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


@pytest.fixture
def toy() -> Any:
    items: dict[str, Any] = {}
    t = RouteTable()

    @t.route("POST", "/v1/{tenant}/things", schema="thing")
    def create(req: Request) -> Any:
        name = req.body["name"]
        if name in items:
            raise HttpError(409, "Conflict", f"{name} exists")
        items[name] = {"name": name, "tenant": req.params["tenant"]}
        return Response(201, items[name])

    @t.route("GET", "/v1/{tenant}/things/{name}", schema="thing")
    def get(req: Request) -> Any:
        if req.params["name"] not in items:
            raise HttpError(404, "NotFound", "no such thing")
        return items[req.params["name"]]

    @t.route("GET", "/v1/{tenant}/bad", schema="thing")
    def bad_shape(req: Request) -> Any:
        return {"unexpected": True}

    def validate(route: Route, body: Any) -> None:
        if route.schema == "thing" and set(body) != {"name", "tenant"}:
            raise ValueError(f"not a thing: {sorted(body)}")

    def error_body(status: int, reason: str, message: str) -> Any:
        return {"Error": {"Code": reason, "Message": message}}

    with LoopbackFake(t, error_body=error_body, validate=validate) as fake:
        yield fake


def test_template_matches_one_segment_per_placeholder() -> None:
    rx = compile_template("/a/{x}/b.{y}")
    assert rx.match("/a/1/b.json").groupdict() == {"x": "1", "y": "json"}
    assert rx.match("/a/1/2/b.json") is None and rx.match("/a/1/bxjson") is None


def test_routes_state_errors_and_recording(toy: LoopbackFake) -> None:
    assert _call(toy, "POST", "/v1/t1/things?dry=no", {"name": "a"}) == (201, {"name": "a", "tenant": "t1"})
    assert _call(toy, "GET", "/v1/t1/things/a")[0] == 200
    assert _call(toy, "POST", "/v1/t1/things", {"name": "a"}) == (
        409,
        {"Error": {"Code": "Conflict", "Message": "a exists"}},
    )
    assert _call(toy, "GET", "/v1/t1/nothing")[0] == 404
    (first,) = toy.find("POST", r"/things$")[:1]
    assert first.query == {"dry": ["no"]} and first.body == {"name": "a"} and first.params == {"tenant": "t1"}
    assert toy.served == 4 and toy.validated == 2


def test_injected_faults_hit_the_chosen_call(toy: LoopbackFake) -> None:
    toy.inject("GET", r"/things/", status=503, reason="Busy", skip=1, times=2)
    _call(toy, "POST", "/v1/t/things", {"name": "a"})
    codes = [_call(toy, "GET", "/v1/t/things/a")[0] for _ in range(4)]
    assert codes == [200, 503, 503, 200]


def test_a_shape_the_validator_rejects_is_a_500_and_recorded(toy: LoopbackFake) -> None:
    status, body = _call(toy, "GET", "/v1/t/bad")
    assert status == 500 and body["Error"]["Code"] == "fakeSchemaError"
    assert toy.schema_errors and "not a thing" in toy.schema_errors[0]


def test_concurrent_requests_are_served(toy: LoopbackFake) -> None:
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda i: _call(toy, "POST", "/v1/t/things", {"name": f"n{i}"})[0], range(40)))
    assert codes == [201] * 40 and toy.served == 40
