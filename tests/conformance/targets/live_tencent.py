"""Live Tencent Cloud target (opt-in): ``MCINFRA_LIVE=tencent`` plus ``TENCENTCLOUD_SECRET_ID``
and ``TENCENTCLOUD_SECRET_KEY`` (the SDK's own variables), optionally
``MCINFRA_LIVE_TENCENT_REGION`` (default ap-guangzhou, zones <region>-3 and -4),
``MCINFRA_LIVE_TENCENT_IMAGE`` (a public image id, default Ubuntu Server 22.04) and
``MCINFRA_LIVE_TENCENT_SPEC`` (default S5.SMALL2). Pay-as-you-go VMs and CLBs are made and
destroyed. See tests/conformance/targets/live.py and docs/testing.md. Not run yet against a real
account."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tests.conformance.targets import Target
from tests.conformance.targets.live import live_target

KEYS = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY")


def missing_credentials(environ: Mapping[str, str]) -> str:
    missing = [k for k in KEYS if not environ.get(k)]
    return f"{' and '.join(missing)} not set" if missing else ""


def make_target(environ: Mapping[str, str] | None = None) -> Target:
    env = os.environ if environ is None else environ
    region = env.get("MCINFRA_LIVE_TENCENT_REGION") or "ap-guangzhou"
    return Target(
        provider="tencent",
        credentials={"secret_id": env[KEYS[0]], "secret_key": env[KEYS[1]]},
        region=region, zone=f"{region}-3", other_zone=f"{region}-4",
        image=env.get("MCINFRA_LIVE_TENCENT_IMAGE") or "img-487zeit5",
        spec=env.get("MCINFRA_LIVE_TENCENT_SPEC") or "S5.SMALL2",
        state_timeout=600.0, root_disk_type="CLOUD_BSSD", root_disk_size=20,
        options={"poll_interval": 2.0},
    )


@contextmanager
def target() -> Iterator[Target]:
    with live_target("tencent", missing_credentials, make_target) as t:
        yield t
