from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from mcinfra.core import validation as v
from mcinfra.core.errors import AlreadyExists, CloudError, InvalidRequest, NotFound, Unsupported
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.managers.base import ResourceManager
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Kind, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.store import IIDRecord

T = TypeVar("T")


class NLBManager(ResourceManager[NLBInfo, NLBHandler]):
    """Network load balancers. Defaults as CB-Spider: the VM group copies the listener's
    protocol/port when omitted; health checks left at -1 get TCP 10/10/3 or HTTP 10/6/3."""

    kind = Kind.NLB

    @property
    def handler(self) -> NLBHandler:
        return self._ctx.handlers.nlb

    def create(
        self,
        name: str,
        *,
        vpc: str,
        listener: Listener | dict[str, Any],
        vm_group: VMGroup | dict[str, Any] | None = None,
        health_checker: HealthChecker | dict[str, Any] | None = None,
        type: Literal["PUBLIC", "INTERNAL"] = "PUBLIC",
        scope: Literal["REGION", "GLOBAL"] = "REGION",
    ) -> NLBInfo:
        name, vpc = v.name(name), v.name(vpc, "vpc")
        lst = v.build(Listener, "listener", listener)
        group = (v.build(VMGroup, "vm_group", vm_group) if vm_group is not None
                 else VMGroup(protocol=lst.protocol, port=lst.port))
        vms = v.names(group.vms, "vm_group.vms")
        hc = v.build(HealthChecker, "health_checker", health_checker or {}).with_defaults(group.port)
        if not isinstance(type, str) or type.upper() not in ("PUBLIC", "INTERNAL"):
            raise InvalidRequest(f"type must be PUBLIC or INTERNAL, not {type!r}", field="type")
        if not isinstance(scope, str) or scope.upper() not in ("REGION", "GLOBAL"):
            raise InvalidRequest(f"scope must be REGION or GLOBAL, not {scope!r}", field="scope")
        if scope.upper() not in self._ctx.capabilities.nlb_scopes:
            raise Unsupported(f"{self._ctx.provider} has no {scope.upper()} network load balancer "
                              f"(scopes: {', '.join(sorted(self._ctx.capabilities.nlb_scopes))})")
        reads = [self._key(vpc, Kind.VPC)] + [self._key(n, Kind.VM) for n in vms]
        with self._locks(writes=[self._key(name)], reads=reads):
            vpc_rec = self._row(vpc, Kind.VPC)
            vm_ids = self._vm_ids(vms, vpc)

            def create_at_csp(cname: str) -> NLBInfo:
                req = NLBReq(name=cname, vpc=vpc_rec.system_id, type=str(type).upper(), scope=str(scope).upper(),
                             listener=lst, vm_group=group.model_copy(update={"vms": vm_ids}), health_checker=hc)
                return self._gated("create", name, self.handler.create, req)

            refs = [(Kind.VPC, vpc)] + [(Kind.VM, n) for n in vms]
            info = self._create_tracked(name, create_at_csp, refs=refs, extra={"vpc": vpc})
            return self._user_view(info, name, {vpc_rec.system_id: vpc, **dict(zip(vm_ids, vms, strict=True))})

    def _vm_ids(self, vms: list[str], vpc: str) -> list[str]:
        ids = []
        for n in vms:
            rec = self._row(n, Kind.VM)
            if rec.extra.get("vpc") not in (None, vpc):
                raise InvalidRequest(f"VM {n!r} is in VPC {rec.extra['vpc']!r}, not the NLB's VPC {vpc!r}",
                                     field="vms")
            ids.append(rec.system_id)
        return ids

    def _group_view(self, group: VMGroup, known: dict[str, str] | None = None) -> VMGroup:
        names = self._name_of(Kind.VM, group.vms, known)
        return group.model_copy(update={"vms": [names(s) for s in group.vms]})

    def _user_view(self, info: NLBInfo, name: str, known: dict[str, str] | None = None) -> NLBInfo:
        return self._renamed(info, name, vpc=self._name_of(Kind.VPC, [info.vpc], known)(info.vpc),
                             vm_group=self._group_view(info.vm_group, known))

    def _adopted_links(self, info: NLBInfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        vpc = self._store.names_for(self._ctx.connection, Kind.VPC, [info.vpc]).get(info.vpc)
        vms = [(Kind.VM, n) for n in self._store.names_for(self._ctx.connection, Kind.VM, info.vm_group.vms).values()]
        return ({"vpc": vpc}, [(Kind.VPC, vpc), *vms]) if vpc else ({}, vms)

    # ------------------------------------------------------------------ VM group
    def add_vms(self, name: str, vms: list[str]) -> VMGroup:
        return self._change_vms(name, vms, add=True)

    def remove_vms(self, name: str, vms: list[str]) -> VMGroup:
        return self._change_vms(name, vms, add=False)

    def _change_vms(self, name: str, vms: list[str], *, add: bool) -> VMGroup:
        name = v.name(name)
        vms = v.names(vms, "vms")
        if not vms:
            raise InvalidRequest("vms must name at least one VM", field="vms")
        with self._locks(writes=[self._key(name)], reads=[self._key(n, Kind.VM) for n in vms]):
            rec = self._row(name)
            current = self._gated("get", name, self.handler.get, self._iid(rec))
            members = set(self._group_view(current.vm_group).vms)
            if add:
                dup = [n for n in vms if n in members]
                if dup:
                    raise AlreadyExists(f"{self._label(name)} already has VM(s) {dup}")
                change, ids = self.handler.add_vms, self._vm_ids(vms, rec.extra.get("vpc", ""))
            else:
                missing = [n for n in vms if n not in members]
                if missing:
                    raise NotFound(f"{self._label(name)} has no VM(s) {missing}")
                change, ids = self.handler.remove_vms, [self._row(n, Kind.VM).system_id for n in vms]
            try:
                group = self._gated(change.__name__, name, change, self._iid(rec), ids)
            except CloudError as exc:
                if exc.throttled:
                    raise
                # the reply may be lost after the CSP acted: record the members it has now
                self._set_member_refs(name, rec, self._gated("get", name, self.handler.get, self._iid(rec)).vm_group)
                raise
            return self._set_member_refs(name, rec, group)

    def _set_member_refs(self, name: str, rec: IIDRecord, group: VMGroup) -> VMGroup:
        """Record the NLB's references to its member VMs (and its VPC); returns the user's view."""
        view = self._group_view(group)
        refs = [(Kind.VM, n) for n in view.vms]
        refs += [(Kind.VPC, rec.extra["vpc"])] if rec.extra.get("vpc") else []
        self._store.set_refs(self._ctx.connection, self.kind, name, refs)
        return view

    def health(self, name: str) -> HealthInfo:
        name = v.name(name)
        with self._locks(reads=[self._key(name)]):
            rec = self._row(name)
            h = self._cached("health", "health", name, self.handler.health, self._iid(rec))
            names = self._name_of(Kind.VM, [*h.all, *h.healthy, *h.unhealthy])
            return HealthInfo(all=[names(s) for s in h.all], healthy=[names(s) for s in h.healthy],
                              unhealthy=[names(s) for s in h.unhealthy])

    # ------------------------------------------------------------------ changes
    def change_listener(self, name: str, listener: Listener | dict[str, Any]) -> Listener:
        lst = v.build(Listener, "listener", listener)
        return self._change(name, self.handler.change_listener, lst)

    def change_vm_group(self, name: str, vm_group: VMGroup | dict[str, Any]) -> VMGroup:
        """Change the VM group's protocol and port (use add_vms/remove_vms for its members)."""
        group = v.build(VMGroup, "vm_group", vm_group)
        return self._group_view(self._change(name, self.handler.change_vm_group, group.model_copy(update={"vms": []})))

    def change_health_checker(self, name: str, health_checker: HealthChecker | dict[str, Any]) -> HealthChecker:
        hc = v.build(HealthChecker, "health_checker", health_checker)
        name = v.name(name)
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name)
            port = hc.port
            if port == -1:
                port = self._gated("get", name, self.handler.get, self._iid(rec)).vm_group.port
            return self._gated("change_health_checker", name, self.handler.change_health_checker, self._iid(rec),
                              hc.with_defaults(port))

    def _change(self, name: str, change: Callable[[IID, T], T], value: T) -> T:
        name = v.name(name)
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name)
            return self._gated(change.__name__, name, change, self._iid(rec), value)  # type: ignore[no-any-return]
