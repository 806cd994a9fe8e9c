"""Conformance targets: one module per driver, each exposing ``target()``.

``target()`` is a context manager (it may start a server, make namespaces...) that yields a
:class:`Target` describing how to connect and which catalog entries to use. The suite in
``tests/conformance`` runs every scenario once per target; a target whose requirements are
missing here raises ``pytest.skip`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Target:
    provider: str
    credentials: dict[str, str] = field(default_factory=dict)
    region: str | None = None
    zone: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    #: an image and a spec that exist in the target's catalog
    image: str = ""
    spec: str = ""
    #: a second zone in the region, for subnets placed outside the default zone (None: skip)
    other_zone: str | None = None
    #: seconds a VM may take to reach a state (waits in scenarios poll up to this)
    state_timeout: float = 30.0
    #: called between scenarios to drop all cloud state (None: rely on destroy_all)
    reset: Any = None
    #: scenario ids this target cannot meet, with the reason (documented in the driver's docs)
    unsupported: dict[str, str] = field(default_factory=dict)


TARGETS = ("mock", "aws", "gcp", "twin", "tencent")
