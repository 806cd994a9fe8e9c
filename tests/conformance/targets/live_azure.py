"""Live Azure target (opt-in): ``MCINFRA_LIVE=azure`` plus the service principal that azure-identity's
``EnvironmentCredential`` reads (``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``) and
``AZURE_SUBSCRIPTION_ID``; optionally ``MCINFRA_LIVE_AZURE_REGION`` (default koreacentral) and
``MCINFRA_LIVE_AZURE_GROUP`` (the resource group, default ``mcinfra-live``: created if missing and,
like every group, never deleted by the driver — delete it by hand after the run if it was made for it).
See tests/conformance/targets/live.py and docs/testing.md."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from tests.conformance.targets import Target
from tests.conformance.targets.azure import IMAGE, SPEC, UNSUPPORTED
from tests.conformance.targets.live import live_target

KEYS = {"subscription_id": "AZURE_SUBSCRIPTION_ID", "tenant_id": "AZURE_TENANT_ID", "client_id": "AZURE_CLIENT_ID",
        "client_secret": "AZURE_CLIENT_SECRET"}


def missing_credentials(environ: Mapping[str, str]) -> str:
    missing = [var for var in KEYS.values() if not environ.get(var)]
    return f"no Azure service principal in the environment ({', '.join(missing)} not set)" if missing else ""


def make_target(environ: Mapping[str, str] | None = None) -> Target:
    env = os.environ if environ is None else environ
    return Target(provider="azure", credentials={key: env[var] for key, var in KEYS.items()},
                  region=env.get("MCINFRA_LIVE_AZURE_REGION") or "koreacentral", zone="1", other_zone=None,
                  image=IMAGE, spec=SPEC, state_timeout=900.0, unsupported=dict(UNSUPPORTED),
                  root_disk_type="StandardSSD_LRS", root_disk_size=64,
                  options={"resource_group": env.get("MCINFRA_LIVE_AZURE_GROUP") or "mcinfra-live"})


@contextmanager
def target() -> Iterator[Target]:
    with live_target("azure", missing_credentials, make_target) as t:
        yield t
