"""The opt-in read cache (issue 17 item 3): TTL per call type, invalidated by writes through
mcinfra, never storing an answer a write made stale, and never used by the reads that decide a
write. Clocks are injected and races are staged with events: nothing here waits on wall time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import mcinfra
from mcinfra import SecurityRule, SubnetReq, VMStatus
from mcinfra.core.cache import CachePolicy, ConnectionCache
from mcinfra.core.connection import Connection
from mcinfra.core.errors import CloudError
from mcinfra.core.models import IID, KeyPairReq, Listener, VMGroup
from mcinfra.drivers.kit import poll_until
from mcinfra.drivers.mock import reset

CLOUD = "read-cache-tests"
REGION = "mars"
SSH = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")
WEB = SecurityRule(direction="inbound", protocol="TCP", from_port=80, to_port=80, cidr="0.0.0.0/0")


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def infra(clock: Clock) -> Iterator[mcinfra.Infra]:
    reset(REGION, cloud_id=CLOUD)
    with mcinfra.Infra("sqlite:///:memory:") as i:
        i.cache.clock = clock
        i.regions.add("r", provider="mock", region=REGION)
        i.connections.add("c", provider="mock", region="r", options={"cloud_id": CLOUD})
        yield i
    reset(REGION, cloud_id=CLOUD)


def cloud_calls(infra: mcinfra.Infra, operation: str) -> int:
    return len(infra.history(connection="c", operation=operation, limit=10_000))


def build(cloud: Connection, vms: tuple[str, ...] = ("vm-01",)) -> None:
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-01", cidr="10.0.1.0/24")])
    cloud.security_groups.create("sg-01", vpc="vpc-01", rules=[SSH])
    cloud.keypairs.create("key-01")
    for vm in vms:
        cloud.vms.start(vm, image="ubuntu-22.04", spec="t2.micro", vpc="vpc-01", subnet="sn-01",
                        security_groups=["sg-01"], keypair="key-01")


EVERYTHING = {"*": 60}


# ---------------------------------------------------------------------------- off by default
def test_no_policy_means_every_read_asks_the_cloud(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("c")
    build(cloud)
    for _ in range(3):
        assert cloud.vms.status("vm-01") == VMStatus.RUNNING
        cloud.images.list()
    assert cloud_calls(infra, "vm.status") == 3 and cloud_calls(infra, "image.list") == 3
    stats = cloud.cache_stats()
    assert stats.hits == stats.misses == 0 and cloud.cache.policy is None


# ---------------------------------------------------------------------------- hits and expiry
def test_hits_within_the_ttl_then_expiry(infra: mcinfra.Infra, clock: Clock) -> None:
    cloud = infra.connect("c", cache={"vm.status": 5, "image.list": 3600})
    build(cloud)
    before = cloud_calls(infra, "vm.status")
    for _ in range(4):
        assert cloud.vms.status("vm-01") == VMStatus.RUNNING
    assert cloud_calls(infra, "vm.status") == before + 1  # hits ask nothing, so the history has one call
    clock.now += 4.9
    cloud.vms.status("vm-01")
    assert cloud_calls(infra, "vm.status") == before + 1
    clock.now += 0.2  # 5.1 s after the read began: expired
    cloud.vms.status("vm-01")
    assert cloud_calls(infra, "vm.status") == before + 2
    stats = cloud.cache_stats()
    assert (stats.hits, stats.misses, stats.expired) == (4, 2, 1)
    assert stats.by_call["vm.status"] == [4, 2]
    # a call type the policy does not name is not cached
    cloud.vms.get("vm-01")
    cloud.vms.get("vm-01")
    assert cloud_calls(infra, "vm.get") == 2


def test_every_public_read_can_be_cached(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("c")
    build(cloud)
    cloud.nlbs.create("nlb-01", vpc="vpc-01", listener=Listener(protocol="TCP", port=80),
                      vm_group=VMGroup(protocol="TCP", port=80, vms=["vm-01"]))
    infra.connect("c", cache=EVERYTHING)
    reads: list[tuple[str, Callable[[], Any]]] = [
        ("vm.get", lambda: cloud.vms.get("vm-01")), ("vm.list", cloud.vms.list),
        ("vm.list_iids", cloud.vms.list_all), ("vm.status", lambda: cloud.vms.status("vm-01")),
        ("vm.statuses", cloud.vms.statuses), ("vpc.get", lambda: cloud.vpcs.subnet("vpc-01", "sn-01")),
        ("security_group.get", lambda: cloud.security_groups.get("sg-01")),
        ("keypair.list", cloud.keypairs.list), ("nlb.health", lambda: cloud.nlbs.health("nlb-01")),
        ("nlb.get", lambda: cloud.nlbs.get("nlb-01")), ("region_zone.list", cloud.region_zones.list),
        ("image.get", lambda: cloud.images.get("ubuntu-22.04")), ("spec.list", cloud.specs.list),
        ("price.get", lambda: cloud.prices.get("t2.micro")),
    ]
    for operation, read in reads:
        before = cloud_calls(infra, operation)
        first = read()
        assert read() == first == read(), operation
        assert cloud_calls(infra, operation) == before + 1, operation


def test_answers_are_copies(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("c", cache={"image.list": 60, "vm.get": 60})
    build(cloud)
    images = cloud.images.list()
    images[0].extra["changed by the caller"] = True
    images.clear()
    again = cloud.images.list()
    assert again and "changed by the caller" not in again[0].extra
    vm = cloud.vms.get("vm-01")
    vm.security_groups.append("sg-99")
    assert cloud.vms.get("vm-01").security_groups == ["sg-01"]


# ---------------------------------------------------------------------------- invalidation
def other_object(infra: mcinfra.Infra, name: str = "c") -> Connection:
    """A second Connection object of the same name in the same Infra (as a batch runner may open)."""
    other = infra._open(name)
    assert other is not infra.connect(name) and other.cache is infra.connect(name).cache
    return other


WRITES: dict[str, tuple[Callable[[Connection], Any], Callable[[Connection], Any], Callable[[Any], bool]]] = {
    # name: (write, read, the read shows the write)
    "suspend": (lambda c: c.vms.suspend("vm-01"), lambda c: c.vms.status("vm-01"),
                lambda s: s == VMStatus.SUSPENDED),
    "reboot": (lambda c: c.vms.reboot("vm-01"), lambda c: c.vms.list(), lambda vms: len(vms) == 1),
    "start": (lambda c: c.vms.start("vm-02", image="ubuntu-22.04", spec="t2.micro", vpc="vpc-01", subnet="sn-01",
                                    security_groups=["sg-01"], keypair="key-01"),
              lambda c: c.vms.statuses(), lambda s: s == {"vm-01": VMStatus.RUNNING, "vm-02": VMStatus.RUNNING}),
    "terminate": (lambda c: c.vms.terminate("vm-01"), lambda c: c.vms.list_all(),
                  lambda la: la.mapped == [] and la.only_csp == []),
    "add_rules": (lambda c: c.security_groups.add_rules("sg-01", [WEB]), lambda c: c.security_groups.get("sg-01"),
                  lambda sg: WEB in sg.rules),
    "remove_rules": (lambda c: c.security_groups.remove_rules("sg-01", [SSH]),
                     lambda c: c.security_groups.list(), lambda sgs: SSH not in sgs[0].rules),
    "add_subnet": (lambda c: c.vpcs.add_subnet("vpc-01", SubnetReq(name="sn-02", cidr="10.0.2.0/24")),
                   lambda c: c.vpcs.get("vpc-01"), lambda vpc: len(vpc.subnets) == 2),
    "create_vpc": (lambda c: c.vpcs.create("vpc-02", cidr="10.1.0.0/16"), lambda c: c.vpcs.list_all(),
                   lambda la: len(la.mapped) == 2),
    "delete_keypair": (lambda c: (c.vms.terminate("vm-01"), c.keypairs.delete("key-01")),
                       lambda c: c.keypairs.list_all(), lambda la: la.mapped == [] and la.only_csp == []),
    "delete_csp": (lambda c: c.keypairs.delete_csp(c.keypairs.list_all().only_csp[0].system_id),
                   lambda c: c.keypairs.list_all(), lambda la: la.only_csp == []),
}


@pytest.mark.parametrize("through", ["same", "other"])
@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_write_invalidates_what_it_changed(infra: mcinfra.Infra, write: str, through: str) -> None:
    cloud = infra.connect("c", cache=EVERYTHING)
    build(cloud)
    if write == "delete_csp":  # a key pair the store does not map
        cloud.handlers.keypair.create(KeyPairReq(name="stray"))
    do, read, shows = WRITES[write]
    read(cloud)
    assert read(cloud) == read(cloud)  # cached now
    do(cloud if through == "same" else other_object(infra))
    misses = cloud.cache_stats().misses
    assert shows(read(cloud)), write
    assert cloud.cache_stats().misses == misses + 1  # the entry died with the write


def test_an_nlb_observes_its_vms(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("c", cache=EVERYTHING)
    build(cloud, ("vm-01", "vm-02"))
    cloud.nlbs.create("nlb-01", vpc="vpc-01", listener=Listener(protocol="TCP", port=80),
                      vm_group=VMGroup(protocol="TCP", port=80, vms=["vm-01", "vm-02"]))
    before = cloud.nlbs.health("nlb-01")
    assert cloud.nlbs.health("nlb-01") == before
    cloud.vms.suspend("vm-02")  # a VM write: the NLB's health may change, so its entries go
    calls = cloud_calls(infra, "nlb.health")
    cloud.nlbs.health("nlb-01")
    assert cloud_calls(infra, "nlb.health") == calls + 1
    cloud.nlbs.remove_vms("nlb-01", ["vm-02"])
    assert cloud.nlbs.get("nlb-01").vm_group.vms == ["vm-01"]


def test_a_failed_write_invalidates_too(infra: mcinfra.Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = infra.connect("c", cache={"vm.status": 60})
    build(cloud)
    assert cloud.vms.status("vm-01") == VMStatus.RUNNING
    handler = cloud.handlers.vm
    real = handler.suspend

    def acts_then_fails(iid: IID) -> VMStatus:
        real(iid)
        raise CloudError("mock", "ConnectionReset", "the reply was lost")

    monkeypatch.setattr(handler, "suspend", acts_then_fails)
    with pytest.raises(CloudError):
        cloud.vms.suspend("vm-01")
    assert cloud.vms.status("vm-01") == VMStatus.SUSPENDED


def test_register_and_unregister_are_seen_at_once(infra: mcinfra.Infra) -> None:
    """The cache holds CSP answers; the user's view is built from the store on every read."""
    cloud = infra.connect("c", cache=EVERYTHING)
    build(cloud)
    stray = cloud.handlers.keypair.create(KeyPairReq(name="stray"))
    assert [k.iid.name_id for k in cloud.keypairs.list()] == ["key-01"]
    cloud.keypairs.register("key-02", stray.iid.system_id)
    assert sorted(k.iid.name_id for k in cloud.keypairs.list()) == ["key-01", "key-02"]
    cloud.keypairs.unregister("key-02")
    assert [k.iid.name_id for k in cloud.keypairs.list()] == ["key-01"]
    assert [i.system_id for i in cloud.keypairs.list_all().only_csp] == [stray.iid.system_id]


def test_another_process_writes_are_seen_when_the_ttl_ends(infra: mcinfra.Infra, clock: Clock) -> None:
    """Per process: another Infra (as another process would) does not invalidate this one."""
    cloud = infra.connect("c", cache={"vm.status": 30})
    build(cloud)
    assert cloud.vms.status("vm-01") == VMStatus.RUNNING
    with _elsewhere() as elsewhere:
        elsewhere.connect("c").handlers.vm.suspend(IID(name_id="", system_id=infra.store.get("c", "vm", "vm-01")
                                                        .system_id))
    assert cloud.vms.status("vm-01") == VMStatus.RUNNING  # still the cached answer
    clock.now += 31
    assert cloud.vms.status("vm-01") == VMStatus.SUSPENDED


def _elsewhere() -> mcinfra.Infra:
    other = mcinfra.Infra("sqlite:///:memory:")
    other.regions.add("r", provider="mock", region=REGION)
    other.connections.add("c", provider="mock", region="r", options={"cloud_id": CLOUD})
    return other


# ---------------------------------------------------------------------------- the stale-read race
def test_a_read_that_began_before_a_write_never_stores(infra: mcinfra.Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = infra.connect("c", cache={"vm.status": 60})
    build(cloud)
    handler = cloud.handlers.vm
    real = handler.status
    asked, release = threading.Event(), threading.Event()
    first = [True]

    def slow_status(iid: IID) -> VMStatus:
        answer = real(iid)  # the cloud answers before the write...
        if first[0] and threading.current_thread().name == "reader":
            first[0] = False
            asked.set()
            assert release.wait(30)  # ...and the answer arrives after it
        return answer

    monkeypatch.setattr(handler, "status", slow_status)
    seen: list[VMStatus] = []
    reader = threading.Thread(target=lambda: seen.append(cloud.vms.status("vm-01")), name="reader")
    reader.start()
    assert asked.wait(30)
    cloud.vms.suspend("vm-01")  # the write does not wait for the reader
    release.set()
    reader.join(30)
    assert seen == [VMStatus.RUNNING]  # the two overlapped: the old answer is a fair one for it
    assert cloud.vms.status("vm-01") == VMStatus.SUSPENDED  # but it was not kept
    assert cloud.cache_stats().discarded == 1


def test_race_at_the_cache_level() -> None:
    cache = ConnectionCache("c", Clock())
    cache.configure(CachePolicy.parse({"vm.get": 60}))
    asked, release = threading.Event(), threading.Event()

    def slow() -> str:
        asked.set()
        assert release.wait(30)
        return "old"

    out: list[str] = []
    t = threading.Thread(target=lambda: out.append(cache.read("vm", "get", ("x",), slow)))
    t.start()
    assert asked.wait(30)
    cache.wrote("vm")
    release.set()
    t.join(30)
    assert out == ["old"]
    assert cache.read("vm", "get", ("x",), lambda: "new") == "new"
    assert cache.read("vm", "get", ("x",), lambda: "newer") == "new"


def test_identical_misses_share_one_cloud_call() -> None:
    cache = ConnectionCache("c", Clock())
    cache.configure(CachePolicy.parse({"image.list": 60}))
    release = threading.Event()
    calls: list[int] = []

    def slow() -> list[str]:
        calls.append(1)
        assert release.wait(30)
        return ["img"]

    out: list[list[str]] = []
    threads = [threading.Thread(target=lambda: out.append(cache.read("image", "list", (), slow))) for _ in range(3)]
    for t in threads:
        t.start()
    poll_until(lambda: cache.stats().coalesced, lambda n: n == 2, timeout=30, interval=0.001, max_interval=0.01,
               provider="test", what="followers")
    release.set()
    for t in threads:
        t.join(30)
    assert calls == [1] and out == [["img"]] * 3


def test_a_failed_leader_lets_followers_ask_for_themselves() -> None:
    cache = ConnectionCache("c", Clock())
    cache.configure(CachePolicy.parse({"image.list": 60}))
    release = threading.Event()

    def failing() -> list[str]:
        assert release.wait(30)
        raise CloudError("mock", "Boom", "no")

    errors: list[Exception] = []

    def lead() -> None:
        try:
            cache.read("image", "list", (), failing)
        except CloudError as exc:
            errors.append(exc)

    leader = threading.Thread(target=lead)
    leader.start()
    poll_until(lambda: cache.stats().misses, lambda n: n == 1, timeout=30, interval=0.001, max_interval=0.01,
               provider="test", what="leader")
    out: list[list[str]] = []
    follower = threading.Thread(target=lambda: out.append(cache.read("image", "list", (), lambda: ["mine"])))
    follower.start()
    poll_until(lambda: cache.stats().coalesced, lambda n: n == 1, timeout=30, interval=0.001, max_interval=0.01,
               provider="test", what="follower")
    release.set()
    leader.join(30)
    follower.join(30)
    assert len(errors) == 1 and out == [["mine"]]


# ---------------------------------------------------------------------------- memory bound
def test_entries_are_bounded_least_recently_used_first() -> None:
    cache = ConnectionCache("c", Clock())
    cache.configure(CachePolicy.parse({"vm.get": 60, "max_entries": 3}))
    for n in range(3):
        cache.read("vm", "get", (f"vm-{n}",), lambda n=n: n)
    cache.read("vm", "get", ("vm-0",), lambda: -1)  # vm-0 used again: vm-1 is now the oldest
    cache.read("vm", "get", ("vm-3",), lambda: 3)
    cache.read("vm", "get", ("vm-4",), lambda: 4)
    stats = cache.stats()
    assert stats.entries == 3 and stats.evictions == 2
    assert cache.read("vm", "get", ("vm-0",), lambda: -1) == 0  # kept
    assert cache.read("vm", "get", ("vm-1",), lambda: 11) == 11  # evicted, asked again


# ---------------------------------------------------------------------------- decisions bypass the cache
def test_reconcile_finds_what_was_made_behind_the_cache(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("c", cache=EVERYTHING)
    assert cloud.keypairs.list_all().only_csp == []  # cached: the CSP has no key pair
    row = infra.store.reserve("c", "keypair", "key-lost", "key-lost-abcdefgh")
    cloud.handlers.keypair.create(KeyPairReq(name="key-lost-abcdefgh"))  # a crash after the CSP call
    report = infra.reconcile()
    assert report.finished == ["c/keypair/key-lost"], report
    assert infra.store.by_id(row).state == "ready"


def test_an_ambiguous_create_asks_the_cloud(infra: mcinfra.Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = infra.connect("c", cache=EVERYTHING)
    build(cloud)
    assert len(cloud.security_groups.list_all().mapped) == 1  # cached
    handler = cloud.handlers.security_group
    real = handler.create

    def made_but_failed(req: Any) -> Any:
        real(req)
        raise CloudError("mock", "ConnectionReset", "the reply was lost")

    monkeypatch.setattr(handler, "create", made_but_failed)
    sg = cloud.security_groups.create("sg-02", vpc="vpc-01", rules=[SSH])  # recovered by the CSP look-up
    assert sg.iid.name_id == "sg-02"
    assert len(cloud.security_groups.list_all().mapped) == 2


def test_a_delete_whose_reply_was_lost_asks_the_cloud(infra: mcinfra.Infra, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = infra.connect("c", cache=EVERYTHING)
    build(cloud, ())
    assert len(cloud.keypairs.list_all().mapped) == 1  # cached: the key pair is there
    handler = cloud.handlers.keypair
    real = handler.delete

    def gone_but_failed(iid: IID) -> None:
        real(iid)
        raise CloudError("mock", "ConnectionReset", "the reply was lost")

    monkeypatch.setattr(handler, "delete", gone_but_failed)
    cloud.keypairs.delete("key-01")  # the existence check saw the cloud, not the cached list
    assert infra.store.list("c", "keypair") == []


def test_a_control_call_checks_the_status_at_the_cloud(infra: mcinfra.Infra) -> None:
    cloud = infra.connect("c", cache={"vm.status": 3600})
    build(cloud)
    assert cloud.vms.status("vm-01") == VMStatus.RUNNING  # cached
    cloud.handlers.vm.suspend(IID(name_id="", system_id=infra.store.get("c", "vm", "vm-01").system_id))
    assert cloud.vms.status("vm-01") == VMStatus.RUNNING  # behind the cache's back: the TTL rules
    assert cloud.vms.resume("vm-01") in (VMStatus.RESUMING, VMStatus.RUNNING)  # the check asked the cloud


# ---------------------------------------------------------------------------- policy and configuration
@pytest.mark.parametrize(("policy", "field"), [
    ({"vm.create": 5}, "cache.vm.create"),
    ({"vm.status": -1}, "cache.vm.status"),
    ({"vm.status": float("nan")}, "cache.vm.status"),
    ({"vm.status": float("inf")}, "cache.vm.status"),
    ({"vm.status": True}, "cache.vm.status"),
    ({"vm.status": "5"}, "cache.vm.status"),
    ({"vm.status": 8 * 86_400}, "cache.vm.status"),
    ({"subnet.*": 5}, "cache.subnet.*"),
    ({5: 5}, "cache.5"),
    ({"vm.status": 5, "max_entries": 0}, "cache.max_entries"),
    ({"ttl": {"vm.status": 5}, "size": 3}, "cache"),
    ({"ttl": 5}, "cache.ttl"),
    ("vm.status", "cache"),
    (5, "cache"),
])
def test_bad_policies_are_refused_naming_the_field(infra: mcinfra.Infra, policy: Any, field: str) -> None:
    with pytest.raises(mcinfra.InvalidRequest) as err:
        infra.connect("c", cache=policy)
    assert err.value.field == field
    assert infra.cache.policy("c") is None  # nothing changed
    with pytest.raises(mcinfra.InvalidRequest):
        infra.connections.add("c2", provider="mock", cache=policy)
    assert [c.name for c in infra.connections.list()] == ["c"]


def test_policy_forms() -> None:
    short = CachePolicy.parse({"vm.*": 5, "vm.status": 1, "*": 100, "image.list": 0, "max_entries": 7})
    assert short is not None and short.max_entries == 7
    assert short.ttl_for("vm.status") == 1 and short.ttl_for("vm.list") == 5
    assert short.ttl_for("spec.get") == 100 and short.ttl_for("image.list") == 0
    long = CachePolicy.parse({"ttl": {"vm.status": 2}, "max_entries": 9})
    assert long is not None and (long.ttl_for("vm.status"), long.max_entries) == (2, 9)
    assert CachePolicy.parse(long) is long
    for off in (None, False, {}, {"vm.status": 0}):
        assert CachePolicy.parse(off) is None


def test_a_stored_default_is_not_a_driver_option(infra: mcinfra.Infra, clock: Clock) -> None:
    infra.connections.add("d", provider="mock", region="r", options={"cloud_id": CLOUD},
                          cache={"image.list": 60})
    config = infra.connections.get("d")
    assert config.cache == {"image.list": 60} and config.options == {"cloud_id": CLOUD}
    cloud = infra.connect("d")  # the mock rejects unknown options: "cache" never reaches it
    assert cloud.cache.policy is not None and cloud.cache.policy.ttl_for("image.list") == 60
    cloud.images.list()
    cloud.images.list()
    assert cloud.cache_stats().hits == 1
    infra.connect("d", cache=None)  # this process says no
    cloud.images.list()
    assert cloud.cache_stats().hits == 1 and infra.cache.stats("d").entries == 0
    # given as options["cache"] it is the same thing
    infra.connections.add("e", provider="mock", options={"cloud_id": CLOUD, "cache": {"vm.*": 5}})
    assert infra.connections.get("e").cache == {"vm.*": 5}
    with pytest.raises(mcinfra.InvalidRequest):
        infra.connections.add("f", provider="mock", options={"cache": {"vm.*": 5}}, cache={"vm.*": 5})


def test_invalidate_and_stats_across_connections(infra: mcinfra.Infra) -> None:
    infra.connections.add("c2", provider="mock", region="r", options={"cloud_id": CLOUD})
    a, b = infra.connect("c", cache={"spec.list": 60}), infra.connect("c2", cache={"spec.list": 60})
    for cloud in (a, b, a, b):
        cloud.specs.list()
    total = infra.cache.stats()
    assert (total.hits, total.misses, total.entries, total.cloud_calls_saved) == (2, 2, 2, 2)
    infra.cache.invalidate("c", "spec")
    a.specs.list()
    b.specs.list()
    assert (infra.cache.stats("c").misses, infra.cache.stats("c2").hits) == (2, 2)
    with pytest.raises(mcinfra.InvalidRequest):
        infra.cache.invalidate("c", "subnet")
    infra.cache.clear()
    assert infra.cache.stats().hits == 0 and infra.cache.policy("c") is not None
