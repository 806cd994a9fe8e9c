"""Conformance target: the GCP driver through google-cloud-compute's real REST client,
against the loopback Compute Engine fake (tests/fakes/gcp), one fake per test session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conformance.targets import Target
from tests.fakes import FAKE_RATE

#: what Compute Engine cannot do, shared with the live target (docs/gcp.md, "Known limits")
UNSUPPORTED = {
    "test_register_keypair": "Compute Engine has no key-pair resource to adopt: SSH keys are 'ssh-keys' "
                             "metadata items (compute/v1 instances.setMetadata), so keypairs.register "
                             "raises Unsupported (create(name, public_key=...) imports a key instead)",
}


@contextmanager
def target() -> Iterator[Target]:
    pytest.importorskip("google.cloud.compute_v1", reason="the gcp extra (google-cloud-compute) is not installed")
    from tests.fakes.gcp import GcpFake

    with GcpFake() as fake:
        yield Target(
            provider="gcp",
            credentials={"project_id": "mcinfra-conformance"},
            region="us-central1",
            zone="us-central1-a",
            other_zone="us-central1-b",
            image="debian-12",
            spec="e2-small",
            options={"api_endpoint": fake.url, "anonymous": True, "retry_base": 0.01, **FAKE_RATE},
            reset=fake.reset,
            root_disk_type="pd-balanced",
            unsupported=UNSUPPORTED,
        )
        assert not fake.schema_errors, f"the GCP fake served responses the SDK cannot parse: {fake.schema_errors}"
        print(f"\n[gcp fake] requests served: {fake.served}, responses validated: {fake.validated}")
