from __future__ import annotations

from typing import Any

from mcinfra.core import validation as v
from mcinfra.core.crashpoint import crash_point
from mcinfra.core.errors import AlreadyExists, InvalidRequest, NotFound
from mcinfra.core.handlers import VPCHandler
from mcinfra.core.managers.base import ResourceManager
from mcinfra.core.models import (
    IID,
    Kind,
    SubnetInfo,
    SubnetReq,
    VPCInfo,
    VPCReq,
    check_subnets_fit,
    normalize_cidr,
    subnet_ref,
)
from mcinfra.store import IIDRecord


def _subnet_reqs(subnets: Any) -> list[SubnetReq]:
    if subnets is None:
        return []
    if not isinstance(subnets, list | tuple):
        raise InvalidRequest("subnets must be a list of SubnetReq", field="subnets")
    return [v.build(SubnetReq, f"subnets[{i}]", s) for i, s in enumerate(subnets)]


class VPCManager(ResourceManager[VPCInfo, VPCHandler]):
    kind = Kind.VPC

    @property
    def handler(self) -> VPCHandler:
        return self._ctx.handlers.vpc

    def create(self, name: str, *, cidr: str, subnets: list[SubnetReq] | None = None) -> VPCInfo:
        name = v.name(name)
        try:
            cidr = normalize_cidr(cidr, version=4)
        except ValueError as exc:
            raise InvalidRequest(f"invalid cidr: {exc}", field="cidr") from None
        reqs = _subnet_reqs(subnets)
        try:
            check_subnets_fit(cidr, reqs)
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="subnets") from None
        reqs = [r.model_copy(update={"zone": r.zone or self._ctx.zone}) for r in reqs]
        sub_csp = {r.name: self._csp_name(r.name, Kind.SUBNET) for r in reqs}
        plan = [[r.name, sub_csp[r.name], r.zone] for r in reqs]

        def create_at_csp(cname: str) -> VPCInfo:
            req = VPCReq(name=cname, cidr=cidr,
                         subnets=[r.model_copy(update={"name": sub_csp[r.name]}) for r in reqs])
            return self._gated("create", name, self.handler.create, req)

        def finish(row_id: int, info: VPCInfo) -> None:
            # the VPC row and its subnets' rows in one transaction: a crash leaves all or none
            self._store.finish(row_id, info.iid.system_id, extra={"cidr": info.cidr},
                               children=(Kind.SUBNET, self._subnet_rows(name, info, plan)))

        with self._locks(writes=[self._key(name)]):
            info = self._create_tracked(name, create_at_csp, extra={"cidr": cidr, "subnets": plan}, finish=finish)
            return self._user_view(info, name)

    def _subnet_rows(self, vpc: str, info: VPCInfo, plan: list[list[Any]]) -> list[dict[str, Any]]:
        """The rows mapping the subnets the CSP made to the user's names (by CSP name)."""
        made = {s.iid.name_id: s for s in info.subnets}
        rows = []
        for user_name, cname, zone in plan:
            sn = made.get(cname)
            if sn is None:
                raise NotFound(f"the CSP did not report subnet {user_name!r} ({cname}) of VPC {vpc!r}")
            rows.append({"name_id": user_name, "system_id": sn.iid.system_id, "csp_name": cname,
                         "owner": vpc, "zone": sn.zone or zone, "extra": {"cidr": sn.cidr}})
        return rows

    def _user_view(self, info: VPCInfo, name: str, known: dict[str, str] | None = None) -> VPCInfo:
        subs = {r.system_id: r for r in self._store.list(self._ctx.connection, Kind.SUBNET, owner=name)}
        subnets = []
        for sn in info.subnets:
            row = subs.get(sn.iid.system_id)
            subnets.append(sn.model_copy(update={
                "iid": IID(name_id=row.name_id if row else sn.iid.name_id, system_id=sn.iid.system_id)}))
        return info.model_copy(update={"iid": IID(name_id=name, system_id=info.iid.system_id), "subnets": subnets})

    def add_subnet(self, vpc: str, subnet: SubnetReq | dict[str, Any]) -> VPCInfo:
        vpc = v.name(vpc, "vpc")
        req = v.build(SubnetReq, "subnet", subnet)
        with self._locks(writes=[self._key(vpc)]):
            rec = self._row(vpc)
            # checked against what the store knows, so bad input never reaches the CSP
            subnets = self._store.list(self._ctx.connection, Kind.SUBNET, owner=vpc)
            if any(s.name_id == req.name for s in subnets):
                raise AlreadyExists(f"subnet {req.name!r} already exists in {self._label(vpc)}")
            existing = [SubnetReq(name=s.name_id, cidr=s.extra["cidr"]) for s in subnets if "cidr" in s.extra]
            try:
                check_subnets_fit(rec.extra.get("cidr") or req.cidr, [*existing, req])
            except ValueError as exc:
                raise InvalidRequest(str(exc), field="subnet") from None
            req = req.model_copy(update={"zone": req.zone or self._ctx.zone})
            vpc_iid = self._iid(rec)
            made: dict[str, SubnetInfo] = {}

            def create_at_csp(cname: str) -> VPCInfo:
                info = self._gated("add_subnet", vpc, self.handler.add_subnet, vpc_iid,
                                   req.model_copy(update={"name": cname}))
                found = next((s for s in info.subnets if s.iid.name_id == cname), None)
                if found is None:
                    raise NotFound(f"the CSP did not report the new subnet {req.name!r} ({cname})")
                made["subnet"] = found
                return info

            def finish(row_id: int, info: VPCInfo) -> None:
                sn = made["subnet"]
                self._store.finish(row_id, sn.iid.system_id, zone=sn.zone or req.zone, extra={"cidr": sn.cidr})

            def take_back(info: VPCInfo) -> None:
                self._gated("remove_subnet", vpc, self.handler.remove_subnet, vpc_iid, made["subnet"].iid)

            def recover(sub: IIDRecord, exc: Exception) -> VPCInfo:  # the reply was lost; the subnet is mapped
                return self._gated("get", vpc, self.handler.get, vpc_iid)  # type: ignore[no-any-return]

            info = self._create_tracked(req.name, create_at_csp, kind=Kind.SUBNET, owner=vpc, zone=req.zone,
                                        finish=finish, take_back=take_back, recover=recover)
            return self._user_view(info, vpc)

    def remove_subnet(self, vpc: str, subnet: str) -> None:
        vpc, subnet = v.name(vpc, "vpc"), v.name(subnet, "subnet")
        with self._locks(writes=[self._key(vpc)]):
            self._row(vpc)
            sn = self._row(subnet, Kind.SUBNET, owner=vpc, deleting=True)
            self._check_unused(subnet, Kind.SUBNET, subnet_ref(vpc, subnet))
            self._mark_deleting(sn)
            self._delete_at_csp(sn, False, self._gated_delete)
            crash_point("subnet.delete:csp-done")
            self._store.drop(sn.id, sn)

    def _delete_at_csp(self, rec: IIDRecord, force: bool, delete: Any, *, restore: bool = True) -> Any:
        """A subnet row is removed from its VPC (remove_subnet), a VPC row deleted."""
        if rec.kind == Kind.SUBNET:
            vpc = self._row(rec.owner, deleting=True)

            def delete(name: str, iid: IID) -> None:
                self._gated("remove_subnet", rec.owner, self.handler.remove_subnet, self._iid(vpc), iid)
        return super()._delete_at_csp(rec, force, delete, restore=restore)

    def _exists_at_csp(self, rec: IIDRecord) -> bool:
        if rec.kind != Kind.SUBNET:
            return super()._exists_at_csp(rec)
        vpc = self._store.get(self._ctx.connection, Kind.VPC, rec.owner)
        if vpc is None or vpc.state == "pending":
            return False
        try:
            info = self._gated("get", rec.owner, self.handler.get, self._iid(vpc))
        except NotFound:
            return False
        return any(s.iid.system_id == rec.system_id for s in info.subnets)

    def subnet(self, vpc: str, subnet: str) -> SubnetInfo:
        """One subnet of a VPC."""
        vpc, subnet = v.name(vpc, "vpc"), v.name(subnet, "subnet")
        info = self.get(vpc)
        for sn in info.subnets:
            if sn.iid.name_id == subnet:
                return sn
        raise NotFound(f"subnet {subnet!r} of VPC {vpc!r} in connection {self._ctx.connection!r} does not exist")

    def _adopted_links(self, info: VPCInfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return {"cidr": info.cidr}, []

    def _after_register(self, name: str, info: VPCInfo) -> None:
        # as CB-Spider: the VPC's subnets come along as "<vpc>-subnet-<n>"
        rows = [{"name_id": f"{name}-subnet-{i}", "system_id": sn.iid.system_id, "csp_name": sn.iid.name_id
                 or sn.iid.system_id, "owner": name, "zone": sn.zone or self._ctx.zone, "extra": {"cidr": sn.cidr}}
                for i, sn in enumerate(info.subnets, start=1)]
        self._store.add_ready(self._ctx.connection, Kind.SUBNET, rows)

    def reconcile_pending(self, rec: IIDRecord) -> bool:
        """Finish a pending VPC (or subnet) row left by a crash if the CSP has it; else drop it."""
        if rec.kind == Kind.SUBNET:
            return self._reconcile_subnet(rec)
        found = next((i for i in self._gated("list", "*", self.handler.list)
                      if i.iid.name_id == rec.csp_name), None)
        if found is None:
            self._store.drop(rec.id, rec)
            return False
        self._store.finish(rec.id, found.iid.system_id, extra={"cidr": found.cidr},
                           children=(Kind.SUBNET, self._subnet_rows(rec.name_id, found, rec.extra.get("subnets", []))))
        return True

    def _reconcile_subnet(self, rec: IIDRecord) -> bool:
        vpc = self._store.get(self._ctx.connection, Kind.VPC, rec.owner)
        if vpc is not None and vpc.state == "ready":
            info = self._gated("get", rec.owner, self.handler.get, self._iid(vpc))
            made = next((s for s in info.subnets if s.iid.name_id == rec.csp_name), None)
            if made is not None:
                self._store.finish(rec.id, made.iid.system_id, zone=made.zone or rec.zone, extra={"cidr": made.cidr})
                return True
        self._store.drop(rec.id, rec)
        return False
