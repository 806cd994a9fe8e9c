from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("tencentcloud.clb.v20180317", reason="the tencent extra is not installed")

from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.tencent.driver import TencentDriver, TencentSession
from tests.fakes import FAKE_RATE
from tests.fakes.tencent import SECRET_ID, SECRET_KEY, TencentFake

REGION, ZONE = "ap-guangzhou", "ap-guangzhou-3"
IMAGE, SPEC = "img-487zeit5", "S5.SMALL2"


@pytest.fixture(scope="module")
def fake() -> Iterator[TencentFake]:
    with TencentFake() as f:
        yield f


def connect(fake: TencentFake, **options: Any) -> TencentSession:
    info = SessionInfo(
        name="tencent-test",
        provider="tencent",
        credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
        region=REGION,
        zone=ZONE,
        options={"endpoint": f"127.0.0.1:{fake.port}", "protocol": "http", "poll_interval": 0.001,
                 "poll_max_interval": 0.005, "retry_base": 0.001, **FAKE_RATE, **options},
    )
    session = TencentDriver().connect(info)
    assert isinstance(session, TencentSession)
    return session


@pytest.fixture
def session(fake: TencentFake) -> Iterator[TencentSession]:
    fake.reset()
    fake.state.polls = 0
    fake.state.page_size = 100
    fake.schema_warnings.clear()
    s = connect(fake)
    yield s
    s.close()
    assert fake.schema_errors == []
    assert fake.schema_warnings == []
