"""Conformance target: the Tencent driver through tencentcloud-sdk-python's real clients (CVM,
VPC, CLB), against the loopback Tencent fake (tests/fakes/tencent), one fake per test session.

The fake keeps instances PENDING/STOPPING/... and CLB tasks running for one poll, so every
wait in the driver is exercised; polls are 1 ms apart."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conformance.targets import Target
from tests.fakes import FAKE_RATE


@contextmanager
def target() -> Iterator[Target]:
    pytest.importorskip("tencentcloud.clb.v20180317",
                        reason="the tencent extra (tencentcloud-sdk-python-*) is not installed")
    from tests.fakes.tencent import SECRET_ID, SECRET_KEY, TencentFake

    with TencentFake(polls=1) as fake:
        yield Target(
            provider="tencent",
            credentials={"secret_id": SECRET_ID, "secret_key": SECRET_KEY},
            region="ap-guangzhou",
            zone="ap-guangzhou-3",
            other_zone="ap-guangzhou-4",
            image="img-487zeit5",
            spec="S5.SMALL2",
            options={"endpoint": f"127.0.0.1:{fake.port}", "protocol": "http", "poll_interval": 0.001,
                     "poll_max_interval": 0.01, "retry_base": 0.001, **FAKE_RATE},
            reset=fake.reset,
            root_disk_type="CLOUD_SSD",
        )
        assert not fake.schema_errors, f"the fake served bodies the published schemas reject: {fake.schema_errors}"
        assert not fake.schema_warnings, f"the Tencent fake left out required members: {fake.schema_warnings[:5]}"
        print(f"\n[tencent fake] requests served: {fake.served}, responses validated: {fake.validated}")
