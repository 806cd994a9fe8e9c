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
    #: scenario ids (test function names) this target cannot meet, each with a reason that cites
    #: the cloud's API (and a line in docs/<provider>.md). Such a scenario still runs and must
    #: raise ``mcinfra.Unsupported`` (see tests/conformance/conftest.py).
    unsupported: dict[str, str] = field(default_factory=dict)
    #: the root disk type test_vm_root_disk asks for ("": the driver's default, whatever it reports)
    root_disk_type: str = ""
    #: the root disk size (GB) test_vm_root_disk asks for: above every target image's own size
    root_disk_size: int = 20
    #: a live run (tests/conformance/targets/live.py) when this target is a real account
    live: Any = None

    @property
    def name(self) -> str:
        return f"{self.provider} (live)" if self.live is not None else self.provider


#: one module per target; live_* run against a real account only when MCINFRA_LIVE names them
TARGETS = ("mock", "aws", "gcp", "twin", "azure", "openstack", "tencent", "alibaba", "live_aws", "live_gcp",
           "live_azure", "live_tencent", "live_alibaba")
