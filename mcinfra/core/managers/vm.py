from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from mcinfra.core import batch
from mcinfra.core import validation as v
from mcinfra.core.batch_results import BatchResult
from mcinfra.core.crashpoint import crash_point
from mcinfra.core.errors import InvalidRequest, McInfraError
from mcinfra.core.handlers import VMHandler
from mcinfra.core.managers.base import ResourceManager, log
from mcinfra.core.models import IID, Kind, VMInfo, VMReq, VMStatus, subnet_ref
from mcinfra.store import IIDRecord

#: the status each control action needs first
NEEDS = {"suspend": VMStatus.RUNNING, "resume": VMStatus.SUSPENDED, "reboot": VMStatus.RUNNING}
GONE = (VMStatus.TERMINATED, VMStatus.NOT_EXIST)
DEFAULT_WAIT = 600.0


class VMManager(ResourceManager[VMInfo, VMHandler]):
    kind = Kind.VM

    @property
    def handler(self) -> VMHandler:
        return self._ctx.handlers.vm

    def _catalog_id(self, value: Any, field: str) -> str:
        """An image/spec given by its CSP id, or by a catalog row (``infra.catalog`` search
        result: anything with a string ``id``) of this connection's provider and connection."""
        if not isinstance(value, str) and isinstance(getattr(value, "id", None), str):
            for attr, mine in (("provider", self._ctx.provider), ("connection", self._ctx.connection)):
                theirs = getattr(value, attr, None)
                if theirs is not None and theirs != mine:
                    raise InvalidRequest(f"{field} {value.id!r} is a catalog row of {attr} {theirs!r}, not "
                                         f"{mine!r}", field=field)
            value = value.id
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"{field} must be a non-empty id or a catalog row", field=field)
        return value

    def _delete_at_csp_fn(self) -> Callable[[IID], object]:
        return self.handler.terminate

    def start(
        self,
        name: str,
        *,
        image: Any,
        spec: Any,
        vpc: str,
        subnet: str,
        security_groups: list[str],
        keypair: str,
        root_disk_type: str | None = None,
        root_disk_size: int | None = None,
        wait: bool = True,
        timeout: float = DEFAULT_WAIT,
    ) -> VMInfo:
        """Start a VM; with ``wait`` (default) return once it is Running (or ``timeout`` passes).
        ``image``/``spec``: the CSP's id, or a row of ``infra.catalog`` search results."""
        name, vpc = v.name(name), v.name(vpc, "vpc")
        subnet, keypair = v.name(subnet, "subnet"), v.name(keypair, "keypair")
        sgs = v.names(security_groups, "security_groups")
        image, spec = self._catalog_id(image, "image"), self._catalog_id(spec, "spec")
        root_disk_type = v.optional_text(root_disk_type, "root_disk_type")
        if root_disk_size is not None:
            root_disk_size = v.count(root_disk_size, "root_disk_size", maximum=65_536)
        wait, timeout = v.flag(wait, "wait"), v.seconds(timeout, "timeout", allow_zero=True)
        reads = [self._key(vpc, Kind.VPC), self._key(keypair, Kind.KEYPAIR)]
        reads += [self._key(s, Kind.SECURITY_GROUP) for s in sgs]
        with self._locks(writes=[self._key(name)], reads=reads):
            vpc_rec = self._row(vpc, Kind.VPC)
            sn_rec = self._row(subnet, Kind.SUBNET, owner=vpc)
            key_rec = self._row(keypair, Kind.KEYPAIR)
            sg_recs = [self._row(s, Kind.SECURITY_GROUP) for s in sgs]
            for s, rec in zip(sgs, sg_recs, strict=True):
                if rec.extra.get("vpc") not in (None, vpc):
                    raise InvalidRequest(f"security group {s!r} belongs to VPC {rec.extra['vpc']!r}, not {vpc!r}",
                                         field="security_groups")
            zone = sn_rec.zone or self._ctx.zone
            refs = [(Kind.VPC, vpc), (Kind.SUBNET, subnet_ref(vpc, subnet)), (Kind.KEYPAIR, keypair)]
            refs += [(Kind.SECURITY_GROUP, s) for s in sgs]
            known = {vpc_rec.system_id: vpc, sn_rec.system_id: subnet, key_rec.system_id: keypair,
                     **{r.system_id: r.name_id for r in sg_recs}}
            extra = {"vpc": vpc, "subnet": subnet, "security_groups": sgs, "keypair": keypair, "ids": known}

            def create_at_csp(cname: str) -> VMInfo:
                req = VMReq(
                    name=cname, image=image, spec=spec, vpc=vpc_rec.system_id, subnet=sn_rec.system_id,
                    security_groups=[r.system_id for r in sg_recs], keypair=key_rec.system_id,
                    public_key=key_rec.extra.get("public_key") or None, zone=zone,
                    root_disk_type=root_disk_type, root_disk_size=root_disk_size,
                )
                return self._gated("start", name, self.handler.start, req)

            def finish(row_id: int, info: VMInfo) -> None:
                self._store.finish(row_id, info.iid.system_id, zone=info.zone or zone, extra=extra)

            info = self._create_tracked(name, create_at_csp, refs=refs, zone=zone, extra=extra, finish=finish)
        if wait and info.status != VMStatus.RUNNING:
            self._wait(self._row(name), {VMStatus.RUNNING}, timeout)
            return self._fresh(name)
        return self._user_view(info, name, known)

    def _fresh(self, name: str) -> VMInfo:
        """The VM as the CSP reports it now (never from the read cache: a start that waited for
        Running must not answer with what a reader cached while it was still Creating)."""
        with self._locks(reads=[self._key(name)]):
            rec = self._row(name, deleting=True)
            info = self._gated("get", name, self.handler.get, self._iid(rec))
            return self._user_view(info, rec.name_id, rec.extra.get("ids"))

    def start_many(self, requests: Iterable[Any], *, concurrency: int = batch.DEFAULT_CONCURRENCY,
                   progress: Any = None, rollback_on_failure: bool = False,
                   cancel: batch.Cancel | None = None) -> BatchResult:
        """``start`` once per request (a ``VMStartReq`` or a mapping of ``start``'s keyword
        arguments with ``name``), as one batch: see :meth:`ResourceManager.create_many`."""
        return self.create_many(requests, concurrency=concurrency, progress=progress,
                                rollback_on_failure=rollback_on_failure, cancel=cancel)

    def _user_view(self, info: VMInfo, name: str, known: dict[str, str] | None = None) -> VMInfo:
        sgs = self._name_of(Kind.SECURITY_GROUP, info.security_groups, known)
        return self._renamed(
            info, name,
            vpc=self._name_of(Kind.VPC, [info.vpc], known)(info.vpc),
            subnet=self._name_of(Kind.SUBNET, [info.subnet], known)(info.subnet),
            security_groups=[sgs(s) for s in info.security_groups],
            keypair=self._name_of(Kind.KEYPAIR, [info.keypair], known)(info.keypair),
        )

    def _adopted_links(self, info: VMInfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        c = self._ctx.connection
        vpc = self._store.names_for(c, Kind.VPC, [info.vpc]).get(info.vpc)
        subnet = self._store.names_for(c, Kind.SUBNET, [info.subnet]).get(info.subnet) if vpc else None
        key = self._store.names_for(c, Kind.KEYPAIR, [info.keypair]).get(info.keypair)
        sgs = self._store.names_for(c, Kind.SECURITY_GROUP, info.security_groups)
        refs = [(Kind.SECURITY_GROUP, n) for n in sgs.values()]
        if vpc:
            refs.append((Kind.VPC, vpc))
        if subnet:
            refs.append((Kind.SUBNET, subnet_ref(vpc, subnet)))
        if key:
            refs.append((Kind.KEYPAIR, key))
        ids = {**sgs, **{sid: n for sid, n in ((info.vpc, vpc), (info.subnet, subnet), (info.keypair, key)) if n}}
        extra = {"vpc": vpc, "subnet": subnet, "keypair": key, "ids": ids,
                 "security_groups": [sgs[s] for s in info.security_groups if s in sgs]}
        return extra, refs

    # ------------------------------------------------------------------ status and control
    def status(self, name: str) -> VMStatus:
        name = v.name(name)
        rec = self._row(name, deleting=True)
        return self._cached("status", "status", name, self.handler.status, self._iid(rec))

    def statuses(self) -> dict[str, VMStatus]:
        """name -> status of every VM the store maps (NotExist for one the CSP lost)."""
        rows = self._mapped()
        if not rows:
            return {}
        by_id = self._cached("statuses", "statuses", "*", self.handler.statuses)
        return {r.name_id: by_id.get(r.system_id, VMStatus.NOT_EXIST) for r in rows}

    def suspend(self, name: str, *, wait: bool = False, timeout: float = DEFAULT_WAIT) -> VMStatus:
        return self._control("suspend", name, VMStatus.SUSPENDED, wait, timeout)

    def resume(self, name: str, *, wait: bool = False, timeout: float = DEFAULT_WAIT) -> VMStatus:
        return self._control("resume", name, VMStatus.RUNNING, wait, timeout)

    def reboot(self, name: str, *, wait: bool = False, timeout: float = DEFAULT_WAIT) -> VMStatus:
        return self._control("reboot", name, VMStatus.RUNNING, wait, timeout)

    def suspend_many(self, names: Iterable[Any], *, wait: bool = False, timeout: float = DEFAULT_WAIT,
                     concurrency: int = batch.DEFAULT_CONCURRENCY, progress: Any = None,
                     cancel: batch.Cancel | None = None) -> BatchResult:
        """``suspend`` once per name, as one batch (results: each VM's status)."""
        return self._control_many("suspend", names, wait, timeout, concurrency, progress, cancel)

    def resume_many(self, names: Iterable[Any], *, wait: bool = False, timeout: float = DEFAULT_WAIT,
                    concurrency: int = batch.DEFAULT_CONCURRENCY, progress: Any = None,
                    cancel: batch.Cancel | None = None) -> BatchResult:
        return self._control_many("resume", names, wait, timeout, concurrency, progress, cancel)

    def reboot_many(self, names: Iterable[Any], *, wait: bool = False, timeout: float = DEFAULT_WAIT,
                    concurrency: int = batch.DEFAULT_CONCURRENCY, progress: Any = None,
                    cancel: batch.Cancel | None = None) -> BatchResult:
        return self._control_many("reboot", names, wait, timeout, concurrency, progress, cancel)

    def _control_many(self, op: str, names: Iterable[Any], wait: bool, timeout: float, concurrency: int,
                      progress: Any, cancel: batch.Cancel | None) -> BatchResult:
        defaults = {"wait": v.flag(wait, "wait"), "timeout": v.seconds(timeout, "timeout", allow_zero=True)}
        return batch.many(self, f"vms.{op}", names, what="names", defaults=defaults,
                          concurrency=concurrency, progress=progress, cancel=cancel)

    def _control(self, op: str, name: str, target: VMStatus, wait: bool, timeout: float) -> VMStatus:
        """The state change under the VM's write lock; the wait for its end without it, so
        readers meanwhile see the transitional status (cb-spider#680)."""
        name = v.name(name)
        wait, timeout = v.flag(wait, "wait"), v.seconds(timeout, "timeout", allow_zero=True)
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name)
            now = self._gated("status", name, self.handler.status, self._iid(rec))
            if now != NEEDS[op]:
                raise InvalidRequest(f"{self._label(name)} is {now.value}; {op} needs {NEEDS[op].value}", field="name")
            action = {"suspend": self.handler.suspend, "resume": self.handler.resume, "reboot": self.handler.reboot}[op]
            status = self._gated(op, name, action, self._iid(rec))
        if wait:
            status = self._wait(rec, {target}, timeout)
        return status

    def wait(self, name: str, status: VMStatus | str, *, timeout: float = DEFAULT_WAIT) -> VMStatus:
        """Poll until the VM reaches ``status``; returns the last status seen."""
        name = v.name(name)
        try:
            target = VMStatus(status)
        except ValueError:
            raise InvalidRequest(f"unknown VM status {status!r}", field="status") from None
        timeout = v.seconds(timeout, "timeout", allow_zero=True)
        return self._wait(self._row(name, deleting=True), {target}, timeout)

    def _wait(self, rec: IIDRecord, targets: set[VMStatus], timeout: float) -> VMStatus:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            status = self._gated("status", rec.name_id, self.handler.status, self._iid(rec))
            if status in targets or status == VMStatus.FAILED or time.monotonic() >= deadline:
                return status
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 2.0)

    def terminate(self, name: str, *, force: bool = False, wait: bool = True,
                  timeout: float = DEFAULT_WAIT) -> VMStatus:
        """Terminate and forget the VM; with ``wait`` return once the CSP reports it gone.

        The row is marked 'deleting' before the CSP is asked and dropped once the CSP took the
        request (after the wait, with ``wait``). The VM's write lock is held for the state change
        only: during the wait ``get``/``status`` show it Terminating, and a crash leaves a
        'deleting' row that ``reconcile()`` closes.
        """
        name, force = v.name(name), v.flag(force, "force")
        wait, timeout = v.flag(wait, "wait"), v.seconds(timeout, "timeout", allow_zero=True)
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name, deleting=True)
            self._check_unused(name)
            self._mark_deleting(rec)
            try:
                status = self._delete_at_csp(rec, False, self._gated_terminate)
            except McInfraError:
                if not force:
                    raise
                log.warning("force-forgetting %s although the CSP refused to terminate it", self._label(name))
                status = VMStatus.FAILED
            crash_point("vm.delete:csp-done")
            if status is None:  # gone already (or the reply was lost and it is gone)
                status = VMStatus.NOT_EXIST
            if not wait or status in GONE or status == VMStatus.FAILED:
                self._store.drop(rec.id, rec)
                return status
        status = self._wait(rec, set(GONE), timeout)
        crash_point("vm.delete:waited")
        with self._locks(writes=[self._key(name)]):
            fresh = self._store.get(self._ctx.connection, self.kind, name)
            if fresh is not None and fresh.id == rec.id:  # not closed meanwhile (by reconcile())
                self._store.drop(rec.id, rec)
        return status

    def terminate_many(self, names: Iterable[Any], *, force: bool = False, wait: bool = True,
                       timeout: float = DEFAULT_WAIT, concurrency: int = batch.DEFAULT_CONCURRENCY,
                       progress: Any = None, cancel: batch.Cancel | None = None) -> BatchResult:
        """``terminate`` once per name, as one batch (results: each VM's last status)."""
        return batch.many(self, "vms.terminate", names, what="names",
                          defaults={"force": v.flag(force, "force"), "wait": v.flag(wait, "wait"),
                                    "timeout": v.seconds(timeout, "timeout", allow_zero=True)},
                          concurrency=concurrency, progress=progress, cancel=cancel)

    def delete_many(self, names: Iterable[Any], *, force: bool = False,
                    concurrency: int = batch.DEFAULT_CONCURRENCY, progress: Any = None,
                    cancel: batch.Cancel | None = None) -> BatchResult:
        return self.terminate_many(names, force=force, concurrency=concurrency, progress=progress, cancel=cancel)

    def _gated_terminate(self, name: str, iid: IID) -> VMStatus:
        return self._gated("terminate", name, self.handler.terminate, iid)  # type: ignore[no-any-return]

    def delete(self, name: str, *, force: bool = False) -> None:
        self.terminate(name, force=force)
