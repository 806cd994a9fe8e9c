"""A connection: one (provider, credential, region) with a manager per resource kind."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mcinfra.core.calls import CallGate
from mcinfra.core.errors import McInfraError, NotFound
from mcinfra.core.handlers import Capabilities, DriverSession
from mcinfra.core.managers.catalog import ImageManager, RegionZoneManager, SpecManager
from mcinfra.core.managers.keypair import KeyPairManager
from mcinfra.core.managers.nlb import NLBManager
from mcinfra.core.managers.security_group import SecurityGroupManager
from mcinfra.core.managers.vm import VMManager
from mcinfra.core.managers.vpc import VPCManager
from mcinfra.core.models import DestroyReport

if TYPE_CHECKING:
    from mcinfra.core.infra import Infra

log = logging.getLogger("mcinfra")

#: destroy_all's order: what depends on others goes first; kinds in one group go in parallel
DESTROY_ORDER = (("nlb",), ("vm",), ("keypair", "security_group"), ("vpc",))


class Connection:
    def __init__(self, infra: Infra, name: str, provider: str, cloud: DriverSession,
                 capabilities: Capabilities, gate: CallGate, zone: str | None) -> None:
        self.infra = infra
        self.name = name
        self.provider = provider
        self.capabilities = capabilities
        self.gate = gate
        self.zone = zone
        self._cloud = cloud
        self._handlers: dict[str, Any] = {}
        self._handlers_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Connection {self.name!r} provider={self.provider!r}>"

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._cloud.close()

    def handler(self, kind: str) -> Any:
        """The driver's handler for a kind, made once (Unsupported if the driver lacks it)."""
        h = self._handlers.get(kind)
        if h is None:
            with self._handlers_lock:
                h = self._handlers.get(kind)
                if h is None:
                    factory = getattr(self._cloud, {"region_zone": "region_zones", "image": "images",
                                                    "spec": "specs"}.get(kind, kind + "s"))
                    h = self._handlers[kind] = self.gate(kind, "handler", "*", factory)
        return h

    @cached_property
    def vpcs(self) -> VPCManager:
        return VPCManager(self)

    @cached_property
    def security_groups(self) -> SecurityGroupManager:
        return SecurityGroupManager(self)

    @cached_property
    def keypairs(self) -> KeyPairManager:
        return KeyPairManager(self)

    @cached_property
    def vms(self) -> VMManager:
        return VMManager(self)

    @cached_property
    def nlbs(self) -> NLBManager:
        return NLBManager(self)

    @cached_property
    def region_zones(self) -> RegionZoneManager:
        return RegionZoneManager(self)

    @cached_property
    def images(self) -> ImageManager:
        return ImageManager(self)

    @cached_property
    def specs(self) -> SpecManager:
        return SpecManager(self)

    def manager(self, kind: str) -> Any:
        return {"vpc": self.vpcs, "security_group": self.security_groups, "keypair": self.keypairs,
                "vm": self.vms, "nlb": self.nlbs}[kind]

    def destroy_all(self, *, rounds: int = 10, pause: float = 1.0, workers: int = 8) -> DestroyReport:
        """Delete everything the store maps for this connection, NLB -> VM -> key/SG -> VPC,
        retrying what fails for up to ``rounds`` rounds."""
        self.infra.reconcile(connection=self.name)
        deleted: dict[str, list[str]] = {}
        last_error: dict[tuple[str, str], str] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"destroy-{self.name}") as pool:
            for group in DESTROY_ORDER:
                for attempt in range(rounds):
                    todo = [(k, r.name_id) for k in group for r in self.infra.store.list(self.name, k, state="ready")]
                    failed = 0
                    for key, err in zip(todo, pool.map(self._destroy_one, todo), strict=True):
                        if err is None:
                            deleted.setdefault(key[0], []).append(key[1])
                        else:
                            last_error[key] = err
                            failed += 1
                    if not failed:
                        break
                    if attempt + 1 < rounds:
                        time.sleep(pause)
        remaining: dict[str, dict[str, str]] = {}
        for kind in (k for group in DESTROY_ORDER for k in group):
            for r in self.infra.store.list(self.name, kind):
                remaining.setdefault(kind, {})[r.name_id] = last_error.get((kind, r.name_id), "not deleted")
        return DestroyReport(all_destroyed=not remaining, deleted=deleted, remaining=remaining)

    def _destroy_one(self, item: tuple[str, str]) -> str | None:
        kind, name = item
        try:
            self.manager(kind).delete(name)
        except NotFound:
            return None
        except McInfraError as exc:
            return str(exc)
        return None
