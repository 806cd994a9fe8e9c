"""The mock driver: every handler, a seeded catalog, injectable latency and faults."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    ImageHandler,
    KeyPairHandler,
    NLBHandler,
    RegionZoneHandler,
    SecurityGroupHandler,
    SessionInfo,
    SpecHandler,
    VMHandler,
    VPCHandler,
)
from mcinfra.drivers.mock.catalog import DEFAULT_REGION, REGIONS, MockImages, MockRegionZones, MockSpecs
from mcinfra.drivers.mock.state import Data, cloud_for


class Behaviour:
    """A connection's injected latency and faults (options ``latency``, ``fail_rate``, ``seed``)."""

    def __init__(self, options: dict[str, Any]) -> None:
        latency = options.get("latency", 0.0)
        if isinstance(latency, int | float):
            lo = hi = float(latency)
        elif isinstance(latency, list | tuple) and len(latency) == 2:
            lo, hi = float(latency[0]), float(latency[1])
        else:
            raise InvalidRequest("mock option latency must be seconds or [min, max]", field="options.latency")
        fail_rate = float(options.get("fail_rate", 0.0))
        if lo < 0 or hi < lo or not 0.0 <= fail_rate <= 1.0:
            raise InvalidRequest("mock options need 0 <= latency min <= max and 0 <= fail_rate <= 1",
                                 field="options")
        self.latency = (lo, hi)
        self.fail_rate = fail_rate
        self._rng = random.Random(options.get("seed"))
        self._rng_lock = threading.Lock()

    def pause(self) -> float:
        lo, hi = self.latency
        if hi <= 0:
            return 0.0
        with self._rng_lock:
            delay = self._rng.uniform(lo, hi)
        time.sleep(delay)
        return delay

    def maybe_fail(self, op: str) -> None:
        if self.fail_rate <= 0:
            return
        with self._rng_lock:
            hit = self._rng.random() < self.fail_rate
        if hit:
            raise CloudError("mock", "InjectedFault", f"injected fault in {op}")

    def new_id(self, prefix: str) -> str:
        with self._rng_lock:
            return f"{prefix}-{self._rng.getrandbits(64):016x}"


class MockHandler:
    """Shared plumbing: latency before each call, faults before each change, the state tx."""

    def __init__(self, conn: MockSession) -> None:
        self.conn = conn
        self.region = conn.region
        self.b = conn.behaviour
        self.cloud = conn.cloud

    @contextmanager
    def read(self) -> Iterator[Data]:
        self.b.pause()
        with self.cloud.tx() as data:
            yield data

    @contextmanager
    def write(self, op: str) -> Iterator[Data]:
        self.b.pause()
        self.b.maybe_fail(op)
        with self.cloud.tx(write=True) as data:
            yield data

    @staticmethod
    def record(data: Data, kind: str, system_id: str, label: str) -> dict[str, Any]:
        rec = data[kind].get(system_id)
        if rec is None:
            raise NotFound(f"{label} {system_id!r} not found")
        return rec

    @staticmethod
    def add(data: Data, kind: str, record: dict[str, Any], label: str) -> None:
        """Keep a new resource; its CSP name must be free (as most CSPs require)."""
        name, sid = record["iid"]["name_id"], record["iid"]["system_id"]
        if name in data["names"][kind]:
            raise AlreadyExists(f"{label} name {name!r} is taken")
        data["names"][kind][name] = sid
        data[kind][sid] = record

    @staticmethod
    def remove(data: Data, kind: str, system_id: str) -> None:
        rec = data[kind].pop(system_id)
        data["names"][kind].pop(rec["iid"]["name_id"], None)


class MockSession(DriverSession):
    def __init__(self, info: SessionInfo) -> None:
        super().__init__(info)
        self.region = info.region or DEFAULT_REGION
        if self.region not in REGIONS:
            raise InvalidRequest(f"mock region {self.region!r} does not exist; mock regions: {', '.join(REGIONS)}",
                                 field="region")
        self.zone = info.zone or f"{self.region}-a"
        self.behaviour = Behaviour(info.options)
        self.cloud = cloud_for(self.region, info.options.get("state_path"))

    def vpcs(self) -> VPCHandler:
        from mcinfra.drivers.mock.vpc import MockVPCs

        return MockVPCs(self)

    def security_groups(self) -> SecurityGroupHandler:
        from mcinfra.drivers.mock.security_group import MockSecurityGroups

        return MockSecurityGroups(self)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.mock.keypair import MockKeyPairs

        return MockKeyPairs(self)

    def vms(self) -> VMHandler:
        from mcinfra.drivers.mock.vm import MockVMs

        return MockVMs(self)

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.mock.nlb import MockNLBs

        return MockNLBs(self)

    def region_zones(self) -> RegionZoneHandler:
        return MockRegionZones()

    def images(self) -> ImageHandler:
        return MockImages()

    def specs(self) -> SpecHandler:
        return MockSpecs(self.region)


class MockDriver(CloudDriver):
    provider = "mock"
    extra = ""

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def connect(self, info: SessionInfo) -> DriverSession:
        return MockSession(info)
