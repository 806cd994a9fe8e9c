"""Fixtures: handlers of a real AwsDriver connection against the moto server of the aws target."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.conformance.targets import aws as aws_target


@pytest.fixture(scope="session")
def moto_url() -> str:
    return aws_target.server_url()


@pytest.fixture
def conn(moto_url: str) -> Iterator[Any]:
    from mcinfra.core.handlers import SessionInfo
    from mcinfra.drivers.aws.driver import AwsDriver

    aws_target.reset(moto_url)
    t = aws_target.make_target(moto_url)
    info = SessionInfo(
        name="aws-test",
        provider="aws",
        credentials=t.credentials,
        region=t.region,
        zone=t.zone,
        options=t.options,
    )
    c = AwsDriver().connect(info)
    yield c
    c.close()


@pytest.fixture
def ec2(conn: Any) -> Any:
    """The raw boto3 EC2 client of the connection, to look at AWS state the driver hides."""
    return conn.client.ec2


@pytest.fixture
def elbv2(conn: Any) -> Any:
    return conn.client.elbv2


class _FakeHttp:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""


@contextmanager
def fail_op(client: Any, operation: str, code: str = "InternalFailure", status: int = 400) -> Iterator[None]:
    """Make one API operation of a boto3 client answer ``code`` (AWS's own error shape), the
    way a real refusal comes back: botocore raises ClientError for it."""
    service = client.meta.service_model.service_id.hyphenize()
    event = f"before-call.{service}.{operation}"

    def refuse(**_: Any) -> Any:
        body = {
            "Error": {"Code": code, "Message": "injected by the test"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        return _FakeHttp(status), body

    client.meta.events.register(event, refuse, unique_id=f"fail-{operation}")
    try:
        yield
    finally:
        client.meta.events.unregister(event, unique_id=f"fail-{operation}")


@contextmanager
def record_calls(client: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(operation, params) of every call the client makes while inside the block."""
    calls: list[tuple[str, dict[str, Any]]] = []
    service = client.meta.service_model.service_id.hyphenize()

    def seen(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, dict(params)))

    event = f"provide-client-params.{service}"
    client.meta.events.register(event, seen, unique_id="record-calls")
    try:
        yield calls
    finally:
        client.meta.events.unregister(event, unique_id="record-calls")
