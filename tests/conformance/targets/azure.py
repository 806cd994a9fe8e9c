"""Conformance target: the Azure driver through the azure-mgmt SDKs' real HTTP pipeline, against
the loopback ARM fake (tests/fakes/azure), one fake per test session. Every answer the fake gives
is checked against Azure's published schemas; a violation fails the run here."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conformance.targets import Target
from tests.fakes import FAKE_RATE

IMAGE = "Canonical:ubuntu-24_04-lts:server:latest"
SPEC = "Standard_B1s"
#: scenarios Azure cannot meet (shared with the live target): none
UNSUPPORTED: dict[str, str] = {}


@contextmanager
def target() -> Iterator[Target]:
    pytest.importorskip("azure.mgmt.compute", reason="the azure extra (azure-mgmt-*) is not installed")
    from tests.fakes.azure import SUBSCRIPTION, AzureFake

    # Azure OS disks are 30-4095 GB (Ubuntu's image is 30 GB); a managed-disk SKU names the type
    disk = {"root_disk_type": "Premium_LRS", "root_disk_size": 64}
    known = {f.name for f in dataclasses.fields(Target)}
    with AzureFake(op_polls=1) as fake:
        yield Target(
            **{k: v for k, v in disk.items() if k in known},
            provider="azure",
            credentials={"subscription_id": SUBSCRIPTION},
            region="koreacentral",
            zone="1",
            other_zone=None,  # Azure subnets are regional: no zone to place one in
            image=IMAGE,
            spec=SPEC,
            options={"base_url": fake.url, "credential": "static", "poll_interval": 0, "retry_base": 0.01,
                     "resource_group": "mcinfra-conformance", **FAKE_RATE},
            reset=fake.reset,
            unsupported=dict(UNSUPPORTED),
        )
        assert not fake.schema_errors, f"the Azure fake served answers Azure's specs reject: {fake.schema_errors}"
        print(f"\n[azure fake] requests served: {fake.served}, answers validated: {fake.validated}")
