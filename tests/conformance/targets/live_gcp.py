"""Live GCP target (opt-in): ``MCINFRA_LIVE=gcp`` plus ``GOOGLE_APPLICATION_CREDENTIALS`` (a
service-account key file; the project is its ``project_id`` or ``GOOGLE_CLOUD_PROJECT``), and
optionally ``MCINFRA_LIVE_GCP_REGION`` (default us-central1). Compute Engine API enabled.
See tests/conformance/targets/live.py and docs/testing.md."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tests.conformance.targets import Target
from tests.conformance.targets.gcp import UNSUPPORTED
from tests.conformance.targets.live import live_target

SPEC = "e2-micro"


def missing_credentials(environ: Mapping[str, str]) -> str:
    path = environ.get("GOOGLE_APPLICATION_CREDENTIALS", "")
    if not path:
        return "GOOGLE_APPLICATION_CREDENTIALS (a service-account key file) is not set"
    if not Path(path).is_file():
        return f"GOOGLE_APPLICATION_CREDENTIALS names no file ({path})"
    return ""


def make_target(environ: Mapping[str, str] | None = None) -> Target:
    env = os.environ if environ is None else environ
    key = json.loads(Path(env["GOOGLE_APPLICATION_CREDENTIALS"]).read_text())
    creds = {k: str(v) for k, v in key.items() if isinstance(v, str)}
    if env.get("GOOGLE_CLOUD_PROJECT"):
        creds["project_id"] = env["GOOGLE_CLOUD_PROJECT"]
    reg = env.get("MCINFRA_LIVE_GCP_REGION") or "us-central1"
    return Target(provider="gcp", credentials=creds, region=reg, zone=f"{reg}-a", other_zone=f"{reg}-b",
                  image="debian-12", spec=SPEC, state_timeout=600.0, unsupported=dict(UNSUPPORTED),
                  root_disk_type="pd-balanced", root_disk_size=20)


@contextmanager
def target() -> Iterator[Target]:
    with live_target("gcp", missing_credentials, make_target) as t:
        yield t
