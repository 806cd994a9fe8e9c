"""Conformance target: the twin driver, a real local cloud on network namespaces (root only).

One twin region per test session, named uniquely and kept in a temporary state directory;
everything it made is removed at the end (and checked to be gone).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conformance.targets import Target


@contextmanager
def target() -> Iterator[Target]:
    from mcinfra.drivers.twin.netns import unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    from mcinfra.drivers.twin.cleanup import cleanup_region, leftovers
    from mcinfra.drivers.twin.state import Region

    region = f"conf-{uuid.uuid4().hex[:8]}"
    state_dir = Path(tempfile.mkdtemp(prefix="mcinfra-twin-"))
    prefix = Region(region, state_dir).prefix
    try:
        yield Target(
            provider="twin",
            region=region,
            zone=f"{region}-a",
            other_zone=f"{region}-b",
            image="ubuntu-22.04",
            spec="twin.small",
            options={"state_dir": str(state_dir)},
            state_timeout=30.0,
            root_disk_type="local",
        )
    finally:
        cleanup_region(region, state_dir)
        shutil.rmtree(state_dir, ignore_errors=True)
        left = leftovers(prefix)
        assert left.empty, f"the twin conformance run left {left}"
