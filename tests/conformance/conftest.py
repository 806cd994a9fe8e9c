"""Fixtures of the conformance suite: every scenario runs once per target (driver).

A scenario a target lists in ``Target.unsupported`` still runs: its body must raise
``mcinfra.Unsupported`` (the driver saying no before it changes anything), and the scenario
then counts as passed, reported as Unsupported in the run's summary. If the body raises
nothing, or another error, the scenario fails.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq
from mcinfra.drivers.kit import poll_until
from mcinfra.store.tables import Base
from tests.conformance.targets import TARGETS, Target

T = TypeVar("T")

#: set on a scenario the target lists as unsupported: (target, reason)
EXPECT_UNSUPPORTED = pytest.StashKey[tuple[str, str]]()


@pytest.fixture(scope="session", params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    module = f"tests.conformance.targets.{request.param}"
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            pytest.skip(f"no conformance target for {request.param!r} in this build")
        raise
    with mod.target() as t:
        yield t


@pytest.fixture
def infra(target: Target) -> Iterator[mcinfra.Infra]:
    if target.live is not None:  # a live run keeps one store for the session (its finalizer needs it)
        yield target.live.infra
        return
    # MCINFRA_TEST_STORE_URL runs the suite on a shared store (PostgreSQL), emptied per scenario
    url = os.environ.get("MCINFRA_TEST_STORE_URL")
    with mcinfra.Infra(url or "sqlite:///:memory:") as i:
        if url:
            with i.store.session() as s:
                for table in reversed(Base.metadata.sorted_tables):
                    s.execute(table.delete())
        yield i


@pytest.fixture
def cloud(infra: mcinfra.Infra, target: Target, request: pytest.FixtureRequest,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[mcinfra.Connection]:
    scenario = request.node.originalname
    if scenario in target.unsupported:
        request.node.stash[EXPECT_UNSUPPORTED] = (target.name, target.unsupported[scenario])
    if target.live is not None:
        target.live.install_tag(monkeypatch)
        conn = target.live.connect()
        yield conn
        report = conn.destroy_all(pause=5.0)
        assert report.all_destroyed, f"destroy_all left {report.remaining} (the session finalizer retries)"
        return
    cred = region = None
    if target.credentials:
        cred = infra.credentials.add("cred", provider=target.provider, keys=target.credentials).name
    if target.region:
        region = infra.regions.add("region", provider=target.provider, region=target.region, zone=target.zone).name
    infra.connections.add("conf", provider=target.provider, credential=cred, region=region, options=target.options)
    conn = infra.connect("conf")
    yield conn
    report = conn.destroy_all(pause=0.2)
    if target.reset:
        target.reset()
    assert report.all_destroyed, f"destroy_all left {report.remaining}"


SSH_IN = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")


@dataclass
class Net:
    vpc: str = "vpc-01"
    subnet: str = "sn-01"
    sg: str = "sg-01"
    key: str = "key-01"
    private_key: str = ""


@pytest.fixture
def net(cloud: mcinfra.Connection) -> Net:
    """A VPC with one subnet, an SG allowing SSH in, and a key pair."""
    n = Net()
    cloud.vpcs.create(n.vpc, cidr="10.10.0.0/16", subnets=[SubnetReq(name=n.subnet, cidr="10.10.1.0/24")])
    cloud.security_groups.create(n.sg, vpc=n.vpc, rules=[SSH_IN])
    n.private_key = cloud.keypairs.create(n.key).private_key or ""
    return n


def start_vm(cloud: mcinfra.Connection, target: Target, net: Net, name: str = "vm-01") -> mcinfra.VMInfo:
    return cloud.vms.start(name, image=target.image, spec=target.spec, vpc=net.vpc, subnet=net.subnet,
                           security_groups=[net.sg], keypair=net.key, timeout=target.state_timeout)


def until(probe: Callable[[], T], *, timeout: float, what: str) -> T:
    """Poll ``probe`` (the kit's bounded poll, backing off 0.01 s .. 2 s) until it returns something
    truthy; fail after ``timeout`` seconds saying ``what`` was awaited. For clouds where a change takes time."""
    try:
        return poll_until(probe, bool, timeout=timeout, interval=0.01, max_interval=2.0, provider="test", what=what)
    except mcinfra.CloudError as exc:
        if exc.code != "OperationTimeout":
            raise
        pytest.fail(f"waited {timeout:g} s for {what}", pytrace=False)


def only_csp(manager: Any) -> set[str]:
    """The CSP ids of this kind that the store does not map."""
    return {i.system_id for i in manager.list_all().only_csp}


def calls(infra: mcinfra.Infra) -> int:
    """How many handler calls the call history holds (to prove a request made none)."""
    return len(infra.history(limit=100_000))


# ---------------------------------------------------------------------- the Unsupported rule
@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    expected = item.stash.get(EXPECT_UNSUPPORTED, None)
    if expected is None:
        return (yield)
    target, reason = expected
    try:
        yield
    except mcinfra.Unsupported as exc:
        item.user_properties.append(("unsupported", f"{reason} [raised: {exc}]"))
        return None
    pytest.fail(f"{target} lists this scenario as unsupported ({reason}), but every call succeeded: "
                "remove it from Target.unsupported", pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = [(r.nodeid, dict(r.user_properties)["unsupported"]) for r in terminalreporter.stats.get("passed", [])
            if r.when == "call" and "unsupported" in dict(r.user_properties)]
    if rows:
        terminalreporter.section("conformance: scenarios a target cannot meet (raised Unsupported)")
        for nodeid, reason in rows:
            terminalreporter.line(f"{nodeid}: {reason}")
