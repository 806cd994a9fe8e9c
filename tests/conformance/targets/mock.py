from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcinfra.drivers.mock import reset
from tests.conformance.targets import Target


@contextmanager
def target() -> Iterator[Target]:
    reset("venus")
    yield Target(provider="mock", region="venus", zone="venus-a", other_zone="venus-b", image="ubuntu-22.04",
                 spec="t2.micro", options={"seed": 7}, reset=lambda: reset("venus"), root_disk_type="gp3")
    reset("venus")
