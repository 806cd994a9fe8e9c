"""How each kind of result looks as a rich table."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table

from mcinfra.cli.output import cell, detail, table
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


def vpcs(items: list[VPCInfo]) -> Table:
    return table("VPCs", ["name", "system id", "cidr", "subnets"], (
        (v.iid.name_id, v.iid.system_id, v.cidr,
         "\n".join(f"{s.iid.name_id} {s.cidr} {s.zone or ''}".strip() for s in v.subnets))
        for v in items))


def vpc(v: VPCInfo) -> Table:
    return detail(f"VPC {v.iid.name_id}", v, {
        "iid": lambda i: f"{i.name_id} ({i.system_id})",
        "subnets": lambda subs: "\n".join(f"{s.iid.name_id} ({s.iid.system_id}) {s.cidr} {s.zone or ''}".strip()
                                          for s in subs) or "-",
    })


def sgs(items: list[SecurityGroupInfo]) -> Table:
    return table("Security groups", ["name", "system id", "vpc", "rules"],
                 ((s.iid.name_id, s.iid.system_id, s.vpc, _lines(s.rules)) for s in items))


def sg(s: SecurityGroupInfo) -> Table:
    return detail(f"Security group {s.iid.name_id}", s,
                  {"iid": lambda i: f"{i.name_id} ({i.system_id})", "rules": _lines})


def keypairs(items: list[KeyPairInfo]) -> Table:
    return table("Key pairs", ["name", "system id", "fingerprint", "vm user"],
                 ((k.iid.name_id, k.iid.system_id, k.fingerprint, k.vm_user) for k in items))


def keypair(k: KeyPairInfo) -> Table:
    return detail(f"Key pair {k.iid.name_id}", k.model_copy(update={"private_key": None}), {
        "iid": lambda i: f"{i.name_id} ({i.system_id})",
        "private_key": lambda _: "(shown once, by create)",
    })


def vms(items: list[VMInfo]) -> Table:
    return table("VMs", ["name", "status", "zone", "public ip", "private ip", "spec", "image", "vpc/subnet",
                         "security groups", "keypair"],
                 ((v.iid.name_id, v.status, v.zone, v.public_ip, v.private_ip, v.spec, v.image,
                   f"{v.vpc}/{v.subnet}", v.security_groups, v.keypair) for v in items))


def vm(v: VMInfo) -> Table:
    return detail(f"VM {v.iid.name_id}", v, {"iid": lambda i: f"{i.name_id} ({i.system_id})"})


def statuses(items: dict[str, Any]) -> Table:
    return table("VM statuses", ["name", "status"], sorted(items.items()))


def nlbs(items: list[NLBInfo]) -> Table:
    return table("NLBs", ["name", "system id", "vpc", "type", "listener", "vm group", "vms", "health check"], (
        (n.iid.name_id, n.iid.system_id, n.vpc, f"{n.type}/{n.scope}", _listener(n), _group(n), n.vm_group.vms,
         _hc(n.health_checker)) for n in items))


def _listener(n: NLBInfo) -> str:
    where = n.listener.dns_name or n.listener.ip or ""
    return f"{n.listener.protocol}:{n.listener.port}" + (f" @ {where}" if where else "")


def _group(n: NLBInfo) -> str:
    return f"{n.vm_group.protocol}:{n.vm_group.port}"


def _hc(h: Any) -> str:
    return f"{h.protocol}:{h.port} every {h.interval}s, timeout {h.timeout}s, threshold {h.threshold}"


def nlb(n: NLBInfo) -> Table:
    return detail(f"NLB {n.iid.name_id}", n, {
        "iid": lambda i: f"{i.name_id} ({i.system_id})",
        "listener": lambda _: _listener(n),
        "vm_group": lambda g: f"{_group(n)} -> {cell(g.vms)}",
        "health_checker": _hc,
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
    return table("Regions and zones", ["region", "display name", "zones"], (
        (r.name, r.display_name, "\n".join(f"{z.name} ({z.status.value})" for z in r.zones)) for r in items))


def region_zone(r: RegionZoneInfo) -> RenderableType:
    return Group(detail(f"Region {r.name}", r.model_copy(update={"zones": []}), {"zones": lambda _: str(len(r.zones))}),
                 table("Zones", ["zone", "display name", "status"],
                       ((z.name, z.display_name, z.status) for z in r.zones)))


def images(items: list[ImageInfo]) -> Table:
    return table("Images", ["name", "system id", "distribution", "arch", "platform", "disk", "status"], (
        (i.name or i.iid.name_id, i.iid.system_id, i.os_distribution, i.os_architecture, i.os_platform,
         f"{i.os_disk_type} {i.os_disk_size_gb or '-'} GB", i.status) for i in items))


def image(i: ImageInfo) -> Table:
    return detail(f"Image {i.name or i.iid.name_id}", i, {"iid": lambda x: f"{x.name_id} ({x.system_id})"})


def specs(items: list[SpecInfo]) -> Table:
    return table("Specs", ["name", "vcpus", "memory (MiB)", "gpus", "arch", "price/h"], (
        (s.name, s.vcpus, s.memory_mib, "; ".join(f"{g.count}x {g.manufacturer} {g.model}" for g in s.gpus),
         s.architecture, s.price_per_hour) for s in items))


def spec(s: SpecInfo) -> Table:
    return detail(f"Spec {s.name}", s,
                  {"gpus": lambda gs: "; ".join(f"{g.count}x {g.manufacturer} {g.model}" for g in gs) or "-"})
