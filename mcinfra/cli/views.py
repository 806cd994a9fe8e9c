"""How each kind of result looks as a rich table."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from mcinfra.cli.output import cell, detail, table
from mcinfra.core.display import COLUMNS, gpus_text, group_text, health_check_text, listener_text
from mcinfra.core.models import (
    HealthInfo,
    ImageInfo,
    KeyPairInfo,
    ListAll,
    NLBInfo,
    RegionZoneInfo,
    SecurityGroupInfo,
    SpecInfo,
    VMInfo,
    VPCInfo,
)


def _lines(items: list[Any]) -> str:
    return "\n".join(str(i) for i in items) or "-"


def _listed(kind: type, items: list[Any]) -> Table:
    """A kind's list with the columns notebooks show too (mcinfra.core.display)."""
    cols = COLUMNS[kind]
    return table(cols.title, cols.headers, (cols.row(i) for i in items))


def vpcs(items: list[VPCInfo]) -> Table:
    return _listed(VPCInfo, items)

def vpc(v: VPCInfo) -> Table:
    return detail(f"VPC {v.iid.name_id}", v, {
        "iid": lambda i: f"{i.name_id} ({i.system_id})",
        "subnets": lambda subs: "\n".join(f"{s.iid.name_id} ({s.iid.system_id}) {s.cidr} {s.zone or ''}".strip()
                                          for s in subs) or "-",
    })


def sgs(items: list[SecurityGroupInfo]) -> Table:
    return _listed(SecurityGroupInfo, items)

def sg(s: SecurityGroupInfo) -> Table:
    return detail(f"Security group {s.iid.name_id}", s,
                  {"iid": lambda i: f"{i.name_id} ({i.system_id})", "rules": _lines})


def keypairs(items: list[KeyPairInfo]) -> Table:
    return _listed(KeyPairInfo, items)

def keypair(k: KeyPairInfo) -> Table:
    return detail(f"Key pair {k.iid.name_id}", k.model_copy(update={"private_key": None}), {
        "iid": lambda i: f"{i.name_id} ({i.system_id})",
        "private_key": lambda _: "(shown once, by create)",
    })


def vms(items: list[VMInfo]) -> Table:
    return _listed(VMInfo, items)

def vm(v: VMInfo) -> Table:
    return detail(f"VM {v.iid.name_id}", v, {"iid": lambda i: f"{i.name_id} ({i.system_id})"})


def statuses(items: dict[str, Any]) -> Table:
    return table("VM statuses", ["name", "status"], sorted(items.items()))


def nlbs(items: list[NLBInfo]) -> Table:
    return _listed(NLBInfo, items)

def nlb(n: NLBInfo) -> Table:
    return detail(f"NLB {n.iid.name_id}", n, {
        "iid": lambda i: f"{i.name_id} ({i.system_id})",
        "listener": lambda _: listener_text(n),
        "vm_group": lambda g: f"{group_text(n)} -> {cell(g.vms)}",
        "health_checker": health_check_text,
    })


def health(h: HealthInfo) -> Table:
    healthy = set(h.healthy)
    return table("NLB health", ["vm", "health"],
                 ((name, "[green]healthy[/]" if name in healthy else "[red]unhealthy[/]")
                  for name in (h.all or [*h.healthy, *h.unhealthy])))


def list_all(la: ListAll) -> Table:
    rows = [("mapped", i.name_id, i.system_id) for i in la.mapped]
    rows += [("only at the CSP", i.name_id, i.system_id) for i in la.only_csp]
    rows += [("only in the store", i.name_id, i.system_id) for i in la.only_store]
    return table("Store vs CSP", ["where", "name", "system id"], rows)


def region_zones(items: list[RegionZoneInfo]) -> Table:
    return _listed(RegionZoneInfo, items)

def region_zone(r: RegionZoneInfo) -> RenderableType:
    return Group(detail(f"Region {r.name}", r.model_copy(update={"zones": []}), {"zones": lambda _: str(len(r.zones))}),
                 table("Zones", ["zone", "display name", "status"],
                       ((z.name, z.display_name, z.status) for z in r.zones)))


def images(items: list[ImageInfo]) -> Table:
    return _listed(ImageInfo, items)

def image(i: ImageInfo) -> Table:
    return detail(f"Image {i.name or i.iid.name_id}", i, {"iid": lambda x: f"{x.name_id} ({x.system_id})"})


def specs(items: list[SpecInfo]) -> Table:
    return _listed(SpecInfo, items)

def spec(s: SpecInfo) -> Table:
    return detail(f"Spec {s.name}", s,
                  {"gpus": lambda _: gpus_text(s) or "-"})
