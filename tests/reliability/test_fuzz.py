"""Fuzz test (issue 15): generated calls — valid, nearly valid and junk arguments — through every
public call of ``Infra``, its config managers, ``Connection`` and every resource manager. Each
call must either succeed with a result of the documented type or raise an mcinfra error; a
call that raises must leave the store (configuration, IID rows, references) and the mock
cloud's inventory exactly as they were. The call history is not compared: a refused CSP call
is recorded there on purpose."""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import mcinfra
from mcinfra import (
    DestroyReport,
    HealthChecker,
    HealthInfo,
    KeyPairInfo,
    ListAll,
    Listener,
    NLBInfo,
    ReconcileReport,
    SecurityGroupInfo,
    SubnetInfo,
    VMGroup,
    VMInfo,
    VMStatus,
    VPCInfo,
)
from mcinfra.drivers.mock import reset
from tests.reliability.world import build_base, mock_inventory, scale, store_snapshot

REGION = "mars"
EXAMPLES_PER_SCALE = 1500

# ------------------------------------------------------------------ argument strategies
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=10), st.binary(max_size=4),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(object()), st.just({}), st.just([]), st.just(float("nan")), st.just(float("inf")),
)
#: numbers that are never a valid duration/count here (valid ones are drawn separately, kept tiny
#: so a valid wait never costs real time)
BAD_NUMBERS = st.sampled_from([-1, -0.5, -0.001, float("nan"), float("inf"), -float("inf"),
                               10**12, True, False, "10", None, [], {}])
NAMES = ["vpc", "sg", "key", "vm", "nlb", "sn-a", "sn-b", "x1", "x2", "c", "r"]
NAME = st.tuples(st.integers(0, 9), st.sampled_from(NAMES), st.sampled_from(
    ["vpc\n", " vpc", "vpc ", "9abc", "a" * 64, "", "a/b", "sg-é", "x1\x00"]), JUNK).map(
    lambda t: t[1] if t[0] < 8 else t[2] if t[0] == 8 else t[3])


def _maybe(valid: st.SearchStrategy[Any], bad: st.SearchStrategy[Any] = JUNK, junk_in: int = 8
            ) -> st.SearchStrategy[Any]:
    """Mostly valid (so whole calls get through to the store and the cloud), junk about one
    time in ``junk_in`` (hypothesis' own choice between branches favours the last ones)."""
    return st.tuples(st.integers(0, junk_in - 1), valid, bad).map(lambda t: t[2] if t[0] == junk_in - 1 else t[1])


CIDR = _maybe(st.sampled_from(["10.0.0.0/16", "10.7.0.0/16", "10.0.9.0/24", "10.0.1.0/24", "bad", "10.0.0.0/33",
                               "::/0", "10.0.0.0/8"]))
SUBNET = st.fixed_dictionaries({"name": NAME, "cidr": CIDR})
SUBNETS = _maybe(st.one_of(st.none(), st.lists(SUBNET, max_size=2)))
RULE = st.fixed_dictionaries({
    "direction": _maybe(st.sampled_from(["inbound", "outbound", "INBOUND", "sideways"])),
    "protocol": _maybe(st.sampled_from(["TCP", "UDP", "ICMP", "ALL", "tcp", "SCTP"])),
    "from_port": _maybe(st.sampled_from([-1, 22, 80, 0, 65536])),
    "to_port": _maybe(st.sampled_from([-1, 22, 80, 443, 70000])),
    "cidr": _maybe(st.sampled_from(["0.0.0.0/0", "10.0.0.0/8", "", "::/0", "300.0.0.0/8"])),
})
RULES = _maybe(st.lists(RULE, max_size=2))
TIMEOUT = _maybe(st.sampled_from([0, 0.0, 0.001]), BAD_NUMBERS)
FLAG = _maybe(st.booleans())
COUNT = _maybe(st.sampled_from([1, 2, 5]), BAD_NUMBERS)
PAUSE = _maybe(st.sampled_from([0, 0.0]), BAD_NUMBERS)
SYSTEM_ID = _maybe(st.sampled_from(["vpc-0000000000000000", "sg-0000", "i-0000", "nope"]))
LISTENER = _maybe(st.fixed_dictionaries({"protocol": _maybe(st.sampled_from(["TCP", "HTTP", "UDP"])),
                                         "port": _maybe(st.sampled_from([80, 8080, 0, 70000]))}))
VMGROUP = _maybe(st.one_of(st.none(), st.fixed_dictionaries({
    "protocol": _maybe(st.sampled_from(["TCP", "HTTP"])), "port": _maybe(st.sampled_from([80, -1, 0])),
    "vms": _maybe(st.lists(NAME, max_size=2))})))
HEALTH = _maybe(st.one_of(st.none(), st.fixed_dictionaries({
    "protocol": _maybe(st.sampled_from(["TCP", "HTTP"])), "port": _maybe(st.sampled_from([80, -1])),
    "interval": _maybe(st.sampled_from([-1, 10, 0]))})))
STATUS = _maybe(st.sampled_from(["Running", "Suspended", "Terminated", "Sleeping", VMStatus.RUNNING]))
KIND = _maybe(st.sampled_from(["vpc", "vm", "subnet", "security_group", "image", "planet"]))
MAPPING = _maybe(st.one_of(st.none(), st.just({}), st.just({"a": 1}), st.just({"latency": 0}),
                           st.just({"a": object()}), st.just({1: 2}), st.just({"x": float("nan")})))
PROVIDER = _maybe(st.sampled_from(["mock", "aws", "planet"]))


@dataclass(frozen=True)
class Call:
    name: str
    args: st.SearchStrategy[dict[str, Any]]
    run: Callable[[mcinfra.Infra, mcinfra.Connection, dict[str, Any]], Any]
    result: Any  # a type, a tuple of types, or a predicate

    def __repr__(self) -> str:
        return self.name


def A(**kw: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(kw)


def list_of(t: type) -> Callable[[Any], bool]:
    return lambda r: isinstance(r, list) and all(isinstance(x, t) for x in r)


NONE = type(None)
MANAGERS = {"vpcs": VPCInfo, "security_groups": SecurityGroupInfo, "keypairs": KeyPairInfo, "vms": VMInfo,
            "nlbs": NLBInfo}

CALLS: list[Call] = [
    # Infra and its configuration
    Call("providers", A(), lambda i, c, a: i.providers(), list),
    Call("credentials.add", A(name=NAME, provider=PROVIDER, keys=_maybe(st.sampled_from([{"k": "v"}, {}, {"k": 1}]))),
         lambda i, c, a: i.credentials.add(a["name"], provider=a["provider"], keys=a["keys"]), object),
    Call("credentials.get", A(name=NAME), lambda i, c, a: i.credentials.get(a["name"]), object),
    Call("credentials.list", A(), lambda i, c, a: i.credentials.list(), list),
    Call("credentials.delete", A(name=NAME), lambda i, c, a: i.credentials.delete(a["name"]), NONE),
    Call("regions.add", A(name=NAME, provider=PROVIDER, region=_maybe(st.sampled_from(["mars", "", " "])),
                          zone=_maybe(st.sampled_from([None, "mars-a", ""])), extra=MAPPING),
         lambda i, c, a: i.regions.add(a["name"], provider=a["provider"], region=a["region"], zone=a["zone"],
                                       extra=a["extra"]), object),
    Call("regions.get", A(name=NAME), lambda i, c, a: i.regions.get(a["name"]), object),
    Call("regions.list", A(), lambda i, c, a: i.regions.list(), list),
    Call("regions.delete", A(name=NAME), lambda i, c, a: i.regions.delete(a["name"]), NONE),
    Call("connections.add", A(name=NAME, provider=_maybe(st.one_of(st.none(), PROVIDER)),
                              credential=_maybe(st.one_of(st.none(), NAME)), region=_maybe(st.one_of(st.none(), NAME)),
                              options=MAPPING),
         lambda i, c, a: i.connections.add(a["name"], provider=a["provider"], credential=a["credential"],
                                           region=a["region"], options=a["options"]), object),
    Call("connections.get", A(name=NAME), lambda i, c, a: i.connections.get(a["name"]), object),
    Call("connections.list", A(), lambda i, c, a: i.connections.list(), list),
    Call("connections.delete", A(name=NAME), lambda i, c, a: i.connections.delete(a["name"]), NONE),
    Call("connect", A(name=NAME), lambda i, c, a: i.connect(a["name"]), mcinfra.Connection),
    Call("reconcile", A(connection=_maybe(st.one_of(st.none(), NAME))),
         lambda i, c, a: i.reconcile(connection=a["connection"]), ReconcileReport),
    Call("history", A(connection=_maybe(st.one_of(st.none(), NAME)), kind=_maybe(st.one_of(st.none(), KIND)),
                      operation=_maybe(st.sampled_from([None, "vm.start", "start"])),
                      ok=_maybe(st.sampled_from([None, True, False])), limit=COUNT),
         lambda i, c, a: i.history(connection=a["connection"], kind=a["kind"], operation=a["operation"],
                                   ok=a["ok"], limit=a["limit"]), list),
    Call("locks.info", A(), lambda i, c, a: i.locks.info(), list),
    # the connection
    Call("destroy_all", A(rounds=COUNT, pause=PAUSE, workers=COUNT),
         lambda i, c, a: c.destroy_all(rounds=a["rounds"], pause=a["pause"], workers=a["workers"]), DestroyReport),
    Call("cloud.reconcile", A(), lambda i, c, a: c.reconcile(), ReconcileReport),
    Call("manager", A(kind=KIND), lambda i, c, a: c.manager(a["kind"]), object),
    # VPCs
    Call("vpcs.create", A(name=NAME, cidr=CIDR, subnets=SUBNETS),
         lambda i, c, a: c.vpcs.create(a["name"], cidr=a["cidr"], subnets=a["subnets"]), VPCInfo),
    Call("vpcs.add_subnet", A(vpc=NAME, subnet=_maybe(SUBNET)),
         lambda i, c, a: c.vpcs.add_subnet(a["vpc"], a["subnet"]), VPCInfo),
    Call("vpcs.remove_subnet", A(vpc=NAME, subnet=NAME),
         lambda i, c, a: c.vpcs.remove_subnet(a["vpc"], a["subnet"]), NONE),
    Call("vpcs.subnet", A(vpc=NAME, subnet=NAME), lambda i, c, a: c.vpcs.subnet(a["vpc"], a["subnet"]), SubnetInfo),
    # security groups
    Call("security_groups.create", A(name=NAME, vpc=NAME, rules=RULES),
         lambda i, c, a: c.security_groups.create(a["name"], vpc=a["vpc"], rules=a["rules"]), SecurityGroupInfo),
    Call("security_groups.add_rules", A(name=NAME, rules=RULES),
         lambda i, c, a: c.security_groups.add_rules(a["name"], a["rules"]), SecurityGroupInfo),
    Call("security_groups.remove_rules", A(name=NAME, rules=RULES),
         lambda i, c, a: c.security_groups.remove_rules(a["name"], a["rules"]), SecurityGroupInfo),
    # key pairs
    Call("keypairs.create", A(name=NAME, public_key=_maybe(st.sampled_from([None, "ssh-ed25519 AAAA", "junk"]))),
         lambda i, c, a: c.keypairs.create(a["name"], public_key=a["public_key"]), KeyPairInfo),
    # VMs
    Call("vms.start", A(name=NAME, image=_maybe(st.sampled_from(["debian-12", "nope", ""])),
                        spec=_maybe(st.sampled_from(["t3.micro", "huge"])), vpc=NAME, subnet=NAME,
                        security_groups=_maybe(st.lists(NAME, max_size=2)), keypair=NAME,
                        root_disk_type=_maybe(st.sampled_from([None, "gp3", ""])),
                        root_disk_size=_maybe(st.sampled_from([None, 10, 0, -1])), wait=FLAG, timeout=TIMEOUT),
         lambda i, c, a: c.vms.start(**a), VMInfo),
    Call("vms.status", A(name=NAME), lambda i, c, a: c.vms.status(a["name"]), VMStatus),
    Call("vms.statuses", A(), lambda i, c, a: c.vms.statuses(), dict),
    *[Call(f"vms.{op}", A(name=NAME, wait=FLAG, timeout=TIMEOUT),
           lambda i, c, a, op=op: getattr(c.vms, op)(a["name"], wait=a["wait"], timeout=a["timeout"]), VMStatus)
      for op in ("suspend", "resume", "reboot")],
    Call("vms.wait", A(name=NAME, status=STATUS, timeout=TIMEOUT),
         lambda i, c, a: c.vms.wait(a["name"], a["status"], timeout=a["timeout"]), VMStatus),
    Call("vms.terminate", A(name=NAME, force=FLAG, wait=FLAG, timeout=TIMEOUT),
         lambda i, c, a: c.vms.terminate(a["name"], force=a["force"], wait=a["wait"], timeout=a["timeout"]),
         VMStatus),
    # NLBs
    Call("nlbs.create", A(name=NAME, vpc=NAME, listener=LISTENER, vm_group=VMGROUP, health_checker=HEALTH,
                          type=_maybe(st.sampled_from(["PUBLIC", "internal", "PRIVATE"])),
                          scope=_maybe(st.sampled_from(["REGION", "GLOBAL", "PLANET"]))),
         lambda i, c, a: c.nlbs.create(a["name"], vpc=a["vpc"], listener=a["listener"], vm_group=a["vm_group"],
                                       health_checker=a["health_checker"], type=a["type"], scope=a["scope"]),
         NLBInfo),
    Call("nlbs.add_vms", A(name=NAME, vms=_maybe(st.lists(NAME, max_size=2))),
         lambda i, c, a: c.nlbs.add_vms(a["name"], a["vms"]), VMGroup),
    Call("nlbs.remove_vms", A(name=NAME, vms=_maybe(st.lists(NAME, max_size=2))),
         lambda i, c, a: c.nlbs.remove_vms(a["name"], a["vms"]), VMGroup),
    Call("nlbs.health", A(name=NAME), lambda i, c, a: c.nlbs.health(a["name"]), HealthInfo),
    Call("nlbs.change_listener", A(name=NAME, listener=LISTENER),
         lambda i, c, a: c.nlbs.change_listener(a["name"], a["listener"]), Listener),
    Call("nlbs.change_vm_group", A(name=NAME, vm_group=VMGROUP),
         lambda i, c, a: c.nlbs.change_vm_group(a["name"], a["vm_group"]), VMGroup),
    Call("nlbs.change_health_checker", A(name=NAME, health_checker=HEALTH),
         lambda i, c, a: c.nlbs.change_health_checker(a["name"], a["health_checker"]), HealthChecker),
    # catalogs
    *[Call(f"{m}.{op}", A(name=_maybe(st.sampled_from(["debian-12", "t3.micro", "mars", "nope"]))),
           (lambda i, c, a, m=m: getattr(c, m).list()) if op == "list"
           else (lambda i, c, a, m=m: getattr(c, m).get(a["name"])), list if op == "list" else object)
      for m in ("region_zones", "images", "specs") for op in ("list", "get")],
]
# the calls every resource manager has
for _m, _info in MANAGERS.items():
    CALLS += [
        Call(f"{_m}.get", A(name=NAME), lambda i, c, a, m=_m: getattr(c, m).get(a["name"]), _info),
        Call(f"{_m}.list", A(), lambda i, c, a, m=_m: getattr(c, m).list(), list_of(_info)),
        Call(f"{_m}.delete", A(name=NAME, force=FLAG),
             lambda i, c, a, m=_m: getattr(c, m).delete(a["name"], force=a["force"]), NONE),
        Call(f"{_m}.register", A(name=NAME, system_id=SYSTEM_ID),
             lambda i, c, a, m=_m: getattr(c, m).register(a["name"], a["system_id"]), _info),
        Call(f"{_m}.unregister", A(name=NAME), lambda i, c, a, m=_m: getattr(c, m).unregister(a["name"]), NONE),
        Call(f"{_m}.list_all", A(), lambda i, c, a, m=_m: getattr(c, m).list_all(), ListAll),
        Call(f"{_m}.delete_csp", A(system_id=SYSTEM_ID),
             lambda i, c, a, m=_m: getattr(c, m).delete_csp(a["system_id"]), NONE),
    ]


def _ok(result: Any, expected: Any) -> bool:
    if isinstance(expected, type | tuple):
        return isinstance(result, expected)
    return bool(expected(result))


class World:
    """The fuzzer's infra: a mock connection with a VPC, SG, key pair, VM and NLB, rebuilt when
    a generated call has taken part of it away."""

    def __init__(self, infra: mcinfra.Infra) -> None:
        self.infra = infra
        self.cloud = infra.connect("c")
        self.rebuilds = 0

    def ensure(self) -> None:
        have = {(r.kind, r.name_id) for r in self.infra.store.list("c") if r.state == "ready"}
        if all(k in have for k in (("vpc", "vpc"), ("security_group", "sg"), ("keypair", "key"), ("vm", "vm"),
                                   ("nlb", "nlb"))):
            return
        # start afresh (destroy_all could not: an unregister() legitimately leaves CSP resources
        # the store no longer maps)
        with self.infra.store.session() as s:
            s.execute(text("DELETE FROM iid_refs WHERE connection = 'c'"))
            s.execute(text("DELETE FROM iids WHERE connection = 'c'"))
        reset(REGION)
        build_base(self.cloud)
        self.rebuilds += 1


@pytest.fixture(scope="module")
def world():
    reset(REGION)
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.regions.add("r", provider="mock", region=REGION)
        infra.connections.add("c", provider="mock", region="r")
        w = World(infra)
        w.ensure()
        yield w
    reset(REGION)


STATS: collections.Counter[str] = collections.Counter()


@settings(max_examples=EXAMPLES_PER_SCALE * scale(), deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_public_call(world: World, data: st.DataObject) -> None:
    world.ensure()
    call = data.draw(st.sampled_from(CALLS), label="call")
    args = data.draw(call.args, label="args")
    store_before, cloud_before = store_snapshot(world.infra), mock_inventory(REGION)
    try:
        result = call.run(world.infra, world.cloud, args)
    except mcinfra.McInfraError as exc:
        STATS[f"rejected: {type(exc).__name__}"] += 1
        assert store_snapshot(world.infra) == store_before, f"{call.name} raised {exc!r} but changed the store"
        assert mock_inventory(REGION) == cloud_before, f"{call.name} raised {exc!r} but changed the cloud"
        return
    STATS["succeeded"] += 1
    assert _ok(result, call.result), f"{call.name} returned {result!r}"


def test_fuzz_figures(world: World) -> None:
    """Prints what the fuzz run did (runs after it in file order)."""
    total = sum(STATS.values())
    print(f"\nfuzz: {total} generated calls over {len(CALLS)} public calls; {dict(sorted(STATS.items()))}; "
          f"world rebuilt {world.rebuilds} times")
