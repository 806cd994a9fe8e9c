"""What a manager needs of its connection: a small context, with no way back to ``Infra``.

The import graph stays one-way: ``infra`` -> ``connection`` -> ``managers`` -> (``context``,
``store``, ``splock``); managers never import the connection or ``Infra``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mcinfra.core.models import Kind

if TYPE_CHECKING:
    from mcinfra.core.cache import ConnectionCache
    from mcinfra.core.calls import CallGate
    from mcinfra.core.handlers import (
        Capabilities,
        DriverSession,
        ImageHandler,
        KeyPairHandler,
        NLBHandler,
        PriceHandler,
        RegionZoneHandler,
        SecurityGroupHandler,
        SpecHandler,
        VMHandler,
        VPCHandler,
    )
    from mcinfra.splock import SPLock
    from mcinfra.store import Store

H = TypeVar("H")


class Handlers:
    """The driver's handler for each kind, made on first use through the call gate (so a driver
    that lacks a kind fails with ``Unsupported``, recorded in the history, when it is first used)."""

    def __init__(self, session: DriverSession, gate: CallGate) -> None:
        self._session = session
        self._gate = gate
        self._made: dict[Kind, Any] = {}
        self._lock = threading.Lock()

    def _get(self, kind: Kind, factory: Callable[[], H]) -> H:
        handler = self._made.get(kind)
        if handler is None:
            with self._lock:
                handler = self._made.get(kind)
                if handler is None:
                    handler = self._made[kind] = self._gate.run(kind, "handler", "*", factory)
        return handler  # type: ignore[no-any-return]

    @property
    def vpc(self) -> VPCHandler:
        return self._get(Kind.VPC, self._session.vpcs)

    @property
    def security_group(self) -> SecurityGroupHandler:
        return self._get(Kind.SECURITY_GROUP, self._session.security_groups)

    @property
    def keypair(self) -> KeyPairHandler:
        return self._get(Kind.KEYPAIR, self._session.keypairs)

    @property
    def vm(self) -> VMHandler:
        return self._get(Kind.VM, self._session.vms)

    @property
    def nlb(self) -> NLBHandler:
        return self._get(Kind.NLB, self._session.nlbs)

    @property
    def region_zone(self) -> RegionZoneHandler:
        return self._get(Kind.REGION_ZONE, self._session.region_zones)

    @property
    def image(self) -> ImageHandler:
        return self._get(Kind.IMAGE, self._session.images)

    @property
    def spec(self) -> SpecHandler:
        return self._get(Kind.SPEC, self._session.specs)

    @property
    def price(self) -> PriceHandler:
        return self._get(Kind.PRICE, self._session.prices)


@dataclass(frozen=True)
class ManagerContext:
    """One connection as its managers see it."""

    connection: str
    provider: str
    #: the connection's default zone (None: the driver picks)
    zone: str | None
    capabilities: Capabilities
    gate: CallGate
    handlers: Handlers
    store: Store
    locks: SPLock
    #: the connection's read cache (None: no caching, no invalidation); see core/cache.py
    cache: ConnectionCache | None = None
