"""The opt-in live Azure target: selected only when asked for, with credentials, never under CI."""

from __future__ import annotations

import pytest

from tests.conformance.targets import live, live_azure

ENV = {"MCINFRA_LIVE": "azure", "AZURE_SUBSCRIPTION_ID": "s", "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c",
       "AZURE_CLIENT_SECRET": "x"}


@pytest.mark.parametrize("environ,runs", [
    (ENV, True),
    ({**ENV, "MCINFRA_LIVE": "aws"}, False),
    ({**ENV, "CI": "true"}, False),
    ({k: v for k, v in ENV.items() if k != "AZURE_CLIENT_SECRET"}, False),
])
def test_live_azure_selection(environ: dict[str, str], runs: bool) -> None:
    assert (live.skip_reason("azure", environ, live_azure.missing_credentials) is None) == runs


def test_live_azure_target_from_env() -> None:
    t = live_azure.make_target({**ENV, "MCINFRA_LIVE_AZURE_REGION": "eastus", "MCINFRA_LIVE_AZURE_GROUP": "rg-x"})
    assert (t.provider, t.region, t.zone, t.options) == ("azure", "eastus", "1", {"resource_group": "rg-x"})
    assert t.credentials["client_secret"] == "x" and t.state_timeout >= 600 and t.root_disk_size >= 30
