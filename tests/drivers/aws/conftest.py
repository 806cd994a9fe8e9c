"""Fixtures: handlers of a real AwsDriver connection against the moto server of the aws target."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conformance.targets import aws as aws_target


@pytest.fixture(scope="session")
def moto_url() -> str:
    return aws_target.server_url()


@pytest.fixture
def conn(moto_url: str) -> Iterator[Any]:
    from mcinfra.core.handlers import ConnectionInfo
    from mcinfra.drivers.aws.driver import AwsDriver

    aws_target.reset(moto_url)
    t = aws_target.make_target(moto_url)
    info = ConnectionInfo(name="aws-test", provider="aws", credentials=t.credentials, region=t.region,
                          zone=t.zone, options=t.options)
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
