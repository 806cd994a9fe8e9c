from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("google.cloud.compute_v1", reason="the gcp extra is not installed")

from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.gcp.driver import GcpDriver
from tests.fakes import FAKE_RATE
from tests.fakes.gcp import GcpFake

PROJECT = "mcinfra-test"
REGION = "us-central1"
ZONE = "us-central1-a"


@pytest.fixture(scope="module")
def fake() -> Iterator[GcpFake]:
    with GcpFake() as f:
        yield f


def connect(fake: GcpFake, **options: Any) -> Any:
    info = SessionInfo(
        name="gcp-test",
        provider="gcp",
        credentials={"project_id": PROJECT},
        region=REGION,
        zone=ZONE,
        options={"api_endpoint": fake.url, "anonymous": True, "retry_base": 0.001, **FAKE_RATE, **options},
    )
    return GcpDriver().connect(info)


@pytest.fixture
def cloud(fake: GcpFake) -> Iterator[Any]:
    fake.reset()
    fake.state.op_polls = 0
    fake.state.transitions = False
    conn = connect(fake)
    yield conn
    conn.close()
    assert fake.schema_errors == []
