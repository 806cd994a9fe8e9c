"""Conformance target: the OpenStack driver through openstacksdk's real client code, against the
loopback OpenStack fake (tests/fakes/openstack), one fake per test session. Every answer the
fake gives is checked against the services' published schemas and samples."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conformance.targets import Target
from tests.fakes import FAKE_RATE


@contextmanager
def target() -> Iterator[Target]:
    pytest.importorskip("openstack", reason="the openstack extra (openstacksdk) is not installed")
    pytest.importorskip("tempest.lib.api_schema.response.compute.v2_1.servers",
                        reason="tempest's schemas check the fake (pip install --no-deps tempest==47.0.0)")
    from tests.fakes.openstack import OpenStackFake

    with OpenStackFake() as fake:
        creds = fake.connect_kwargs()
        yield Target(
            provider="openstack",
            credentials={"auth_url": creds["auth_url"], "username": creds["username"],
                         "password": creds["password"], "project_name": creds["project_name"],
                         "user_domain_name": "Default", "project_domain_name": "Default"},
            region="RegionOne",
            zone="nova",
            image="ubuntu-22.04",
            spec="m1.small",
            # fast polls: the fake keeps servers in BUILD and load balancers PENDING_* for one read
            options={"poll_interval": 0.001, "max_poll_interval": 0.01, "retry_base": 0.01, "wait_timeout": 10,
                     **FAKE_RATE},
            state_timeout=10,
            reset=fake.reset,
            # Cinder's default volume type (a boot volume of that type is made from the image)
            root_disk_type="__DEFAULT__",
        )
        assert not fake.schema_errors, f"the OpenStack fake served answers its published material rejects: " \
                                       f"{fake.schema_errors}"
        print(f"\n[openstack fake] requests served: {fake.served}, answers validated: {fake.check.validated}")
