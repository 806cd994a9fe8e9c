"""Live Alibaba target (opt-in): ``MCINFRA_LIVE=alibaba`` plus ``ALIBABA_CLOUD_ACCESS_KEY_ID`` /
``ALIBABA_CLOUD_ACCESS_KEY_SECRET`` [``ALIBABA_CLOUD_SECURITY_TOKEN``], optionally
``MCINFRA_LIVE_ALIBABA_REGION`` (default cn-hangzhou), ``MCINFRA_LIVE_ALIBABA_ZONES`` (two zones,
comma-separated; default cn-hangzhou-h,cn-hangzhou-i) and
``MCINFRA_LIVE_ALIBABA_IMAGE`` (public image ids change over time: pick a current one with
``aliyun ecs DescribeImages --ImageOwnerAlias system``). Never run yet against a real account.
See tests/conformance/targets/live.py and docs/testing.md."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tests.conformance.targets import Target
from tests.conformance.targets.live import live_target

SPEC = "ecs.t6-c1m1.large"
IMAGE = "ubuntu_22_04_x64_20G_alibase_20240130.vhd"


def missing_credentials(environ: Mapping[str, str]) -> str:
    if environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID") and environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET"):
        return ""
    return "no Alibaba credentials in the environment (ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET)"


def make_target(environ: Mapping[str, str] | None = None) -> Target:
    env = os.environ if environ is None else environ
    reg = env.get("MCINFRA_LIVE_ALIBABA_REGION") or "cn-hangzhou"
    creds = {
        "access_key_id": env["ALIBABA_CLOUD_ACCESS_KEY_ID"],
        "access_key_secret": env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
    }
    if env.get("ALIBABA_CLOUD_SECURITY_TOKEN"):
        creds["security_token"] = env["ALIBABA_CLOUD_SECURITY_TOKEN"]
    zone, other = (env.get("MCINFRA_LIVE_ALIBABA_ZONES") or f"{reg}-h,{reg}-i").split(",")[:2]
    return Target(
        provider="alibaba",
        credentials=creds,
        region=reg,
        zone=zone.strip(),
        other_zone=other.strip(),
        image=env.get("MCINFRA_LIVE_ALIBABA_IMAGE") or IMAGE,
        spec=SPEC,
        state_timeout=600.0,
        options={"poll_interval": 2.0},
        root_disk_type="cloud_essd",
        root_disk_size=40,
    )


@contextmanager
def target() -> Iterator[Target]:
    with live_target("alibaba", missing_credentials, make_target) as t:
        yield t
