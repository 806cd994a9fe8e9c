"""What the reliability suites share: a mock world, its inventory, and the store == CSP check.

``MCINFRA_RELIABILITY_SCALE`` (default 1) multiplies the size of the fuzz, crash-point and
soak runs: CI runs them at 1 (a few thousand cases in all); ``MCINFRA_RELIABILITY_SCALE=10``
is the larger run (see docs/reliability.md).
"""

from __future__ import annotations

import json
import os
from typing import Any

from sqlalchemy import text

import mcinfra
from mcinfra import HealthChecker, Listener, SecurityRule, SubnetReq, VMGroup
from mcinfra.drivers.mock.state import cloud_for

KINDS = ("vpc", "security_group", "keypair", "vm", "nlb")
SSH = SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22, cidr="0.0.0.0/0")


def scale() -> int:
    try:
        return max(1, int(os.environ.get("MCINFRA_RELIABILITY_SCALE", "1")))
    except ValueError:
        return 1


def mock_inventory(region: str, state_path: str | None = None) -> str:
    """The mock cloud's whole state, as comparable text."""
    with cloud_for(region, state_path).tx() as data:
        return json.dumps(data, sort_keys=True, default=str)


def store_snapshot(infra: mcinfra.Infra) -> str:
    """Every row the store keeps about configuration and resources (not the call history)."""
    infra.store.flush_history()
    out = {}
    with infra.store.engine.connect() as c:
        for table in ("credentials", "regions", "connections", "iids", "iid_refs"):
            out[table] = [tuple(map(str, r)) for r in c.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
    return json.dumps(out, sort_keys=True)


def disagreements(infra: mcinfra.Infra, cloud: mcinfra.Connection) -> list[str]:
    """Where the store and the CSP disagree for one connection (empty: they agree)."""
    out = []
    for kind in KINDS:
        la = cloud.manager(kind).list_all()
        out += [f"{kind} only at the CSP: {i.name_id} ({i.system_id})" for i in la.only_csp]
        out += [f"{kind} only in the store: {i.name_id} ({i.system_id})" for i in la.only_store]
    out += [f"unsettled row {r.label} ({r.state})" for r in infra.store.unsettled(cloud.name)]
    vpcs = {r.system_id: r for r in infra.store.list(cloud.name, "vpc") if r.state == "ready"}
    for info in cloud.handlers.vpc.list():
        rec = vpcs.get(info.iid.system_id)
        if rec is None:
            continue
        at_csp = {s.iid.system_id for s in info.subnets}
        in_store = {r.system_id for r in infra.store.list(cloud.name, "subnet", owner=rec.name_id)}
        if at_csp != in_store:
            out.append(f"subnets of {rec.name_id}: CSP {sorted(at_csp)} store {sorted(in_store)}")
    return out


def build_base(cloud: mcinfra.Connection, suffix: str = "") -> dict[str, Any]:
    """A VPC with two subnets, an SG, a key pair, a VM and an NLB over it."""
    s = suffix
    cloud.vpcs.create(f"vpc{s}", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-a", cidr="10.0.1.0/24"),
                                                                SubnetReq(name="sn-b", cidr="10.0.2.0/24")])
    cloud.security_groups.create(f"sg{s}", vpc=f"vpc{s}", rules=[SSH])
    cloud.keypairs.create(f"key{s}")
    cloud.vms.start(f"vm{s}", image="debian-12", spec="t3.micro", vpc=f"vpc{s}", subnet="sn-a",
                    security_groups=[f"sg{s}"], keypair=f"key{s}")
    cloud.nlbs.create(f"nlb{s}", vpc=f"vpc{s}", listener=Listener(protocol="TCP", port=80),
                      vm_group=VMGroup(protocol="TCP", port=80, vms=[f"vm{s}"]),
                      health_checker=HealthChecker(protocol="TCP", port=80))
    return {"vpc": f"vpc{s}", "sg": f"sg{s}", "key": f"key{s}", "vm": f"vm{s}", "nlb": f"nlb{s}"}
