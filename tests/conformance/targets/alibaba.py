"""Conformance target: the Alibaba driver through the alibabacloud-* SDKs' real clients, against
the loopback ECS/VPC/NLB fake (tests/fakes/alibaba), one fake per test session. Instances pass
through Pending/Starting/Stopping and NLB jobs stay Processing for a poll, with a tiny poll
interval so the waits cost no time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conformance.targets import Target
from tests.fakes import FAKE_RATE


@contextmanager
def target() -> Iterator[Target]:
    pytest.importorskip("alibabacloud_ecs20140526", reason="the alibaba extra is not installed")
    from tests.fakes.alibaba import AliFake

    keys = {"access_key_id": "AKconformance", "access_key_secret": "SKconformance"}
    # the fake checks every request's ACS3-HMAC-SHA256 signature against this secret
    with AliFake(
        state_polls=1, job_polls=1, lb_polls=1, secrets={keys["access_key_id"]: keys["access_key_secret"]}
    ) as fake:
        yield Target(
            provider="alibaba",
            credentials=keys,
            region="cn-hangzhou",
            zone="cn-hangzhou-h",
            other_zone="cn-hangzhou-i",
            image="ubuntu_22_04_x64_20G_alibase_20240130.vhd",
            spec="ecs.g7.large",
            options={
                "endpoint": f"127.0.0.1:{fake.port}",
                "protocol": "http",
                "poll_interval": 0.005,
                "retry_base": 0.01,
                **FAKE_RATE,
            },
            reset=fake.reset,
            root_disk_type="cloud_essd",
            root_disk_size=40,
        )
        assert not fake.schema_errors, f"the Alibaba fake broke Alibaba's published API: {fake.schema_errors}"
        assert not fake.signature_errors, f"requests signed wrongly: {fake.signature_errors}"
        print(f"\n[alibaba fake] requests served: {fake.served}, responses validated: {fake.validated}")
