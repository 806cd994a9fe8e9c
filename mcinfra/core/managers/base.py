"""What every resource manager shares: the call sequence of DESIGN.md §6.

validate -> take SP-Locks -> resolve names via the store -> write a pending IID row -> call the
handler (through the connection's CallGate) -> finish the row (or drop it on failure) -> release.

A manager sees its connection only through a :class:`ManagerContext`; it is typed against its
handler ABC (``handler``), so go-to-definition leads from a manager call to the driver contract.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mcinfra.core import batch
from mcinfra.core import validation as v
from mcinfra.core.batch_results import BatchResult
from mcinfra.core.cache import READ_OPS
from mcinfra.core.crashpoint import crash_point
from mcinfra.core.display import ItemProgress, ResultList
from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import ResourceHandler
from mcinfra.core.models import IID, Kind, ListAll
from mcinfra.core.naming import csp_name

if TYPE_CHECKING:
    from mcinfra.core.managers.context import ManagerContext
    from mcinfra.splock import LockKey
    from mcinfra.store import IIDRecord

log = logging.getLogger("mcinfra")
Info = TypeVar("Info")  # the info model of a kind
T = TypeVar("T")
Handler = TypeVar("Handler", bound=ResourceHandler)


class ResourceManager(ABC, Generic[Info, Handler]):
    kind: Kind

    def __init__(self, ctx: ManagerContext) -> None:
        self._ctx = ctx
        self._store = ctx.store

    def __repr__(self) -> str:
        return f"<{type(self).__name__} connection={self._ctx.connection!r}>"

    @property
    @abstractmethod
    def handler(self) -> Handler:
        """The driver's handler for this kind."""

    def _delete_at_csp_fn(self) -> Callable[[IID], object]:
        """The handler call that removes one resource of this kind (VMs: terminate)."""
        return self.handler.delete  # type: ignore[attr-defined, no-any-return]

    # ------------------------------------------------------------------ plumbing
    def _key(self, name: str, kind: Kind | None = None) -> LockKey:
        return (self._ctx.connection, kind or self.kind, name)

    def _locks(self, writes: Iterable[LockKey] = (), reads: Iterable[LockKey] = ()) -> AbstractContextManager[None]:
        return self._ctx.locks.hold(writes=writes, reads=reads)

    def _gated(self, op: str, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)`` through the connection's call gate (history, typed errors, redaction).
        A write (any operation but a read's) invalidates the read cache when it ends, failed or not."""
        cache = self._ctx.cache
        if cache is None or op in READ_OPS:
            return self._ctx.gate.run(self.kind, op, name, fn, *args)
        try:
            return self._ctx.gate.run(self.kind, op, name, fn, *args)
        finally:
            cache.wrote(self.kind)

    def _cached(self, call: str, op: str, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        """A public read (call type ``<kind>.<call>``) through the read cache when the connection
        caches it; reads that decide a write use :meth:`_gated` and always ask the cloud."""
        cache = self._ctx.cache
        if cache is None or cache.policy is None:
            return self._ctx.gate.run(self.kind, op, name, fn, *args)
        return cache.read(self.kind, call, args, lambda: self._ctx.gate.run(self.kind, op, name, fn, *args))

    def _gated_delete(self, name: str, iid: IID) -> object:
        delete = self._delete_at_csp_fn()
        return self._gated(getattr(delete, "__name__", "delete"), name, delete, iid)

    def _label(self, name: str, kind: Kind | None = None) -> str:
        return f"{(kind or self.kind).label} {name!r} in connection {self._ctx.connection!r}"

    def _row(self, name: str, kind: Kind | None = None, owner: str = "", *, deleting: bool = False) -> IIDRecord:
        """The ready row of a name (``deleting``: a row being deleted too, for reads and for a
        delete that repeats an interrupted one)."""
        rec = self._store.get(self._ctx.connection, kind or self.kind, name, owner)
        if rec is None or not (rec.state == "ready" or (deleting and rec.state == "deleting")):
            where = f" (VPC {owner!r})" if owner else ""
            state = {"pending": " (still being created)", "deleting": " (being deleted)"}.get(
                rec.state if rec is not None else "", "")
            raise NotFound(f"{self._label(name, kind)}{where} does not exist{state}")
        return rec

    def _iid(self, rec: IIDRecord) -> IID:
        """The IID a driver understands: (CSP-side name, CSP id)."""
        return IID(name_id=rec.csp_name, system_id=rec.system_id)

    def _csp_name(self, name: str, kind: Kind | None = None) -> str:
        return csp_name(name, kind or self.kind, self._ctx.capabilities.name_rules)

    def _check_unused(self, name: str, kind: Kind | None = None, ref_name: str | None = None) -> None:
        users = self._store.referrers(self._ctx.connection, kind or self.kind, ref_name or name)
        if users:
            listed = ", ".join(f"{Kind(k).label} {n!r}" for k, n in users[:10])
            raise InUse(f"{self._label(name, kind)} is used by {listed}")

    def _create_tracked(
        self, name: str, create_at_csp: Callable[[str], T], *, kind: Kind | None = None, owner: str = "",
        refs: Iterable[tuple[str, str]] = (), zone: str | None = None, extra: dict[str, Any] | None = None,
        finish: Callable[[int, T], None] | None = None, take_back: Callable[[T], object] | None = None,
        recover: Callable[[IIDRecord, CloudError], T] | None = None,
    ) -> T:
        """Reserve the name in a pending row, run ``create_at_csp(csp_name)``, finish the row.

        The CSP call failed: the row is dropped — unless the failure is ambiguous (a CloudError
        that was not throttling: the reply may have been lost after the CSP acted). Then the
        CSP is asked for the CSP name first, as ``reconcile()`` does: found, the row is finished
        and ``recover(row, error)`` gives the result (default :meth:`_recover`: the handler's
        ``get``; a key pair, whose private key cannot be had again, takes the resource back and
        raises the error instead). When the look-up fails too, the pending row stays for
        ``reconcile()``.
        The store write after the call failed: the resource is taken back at the CSP
        (``take_back``, default: delete ``info.iid``) and the row dropped; when the take-back
        fails too, the pending row stays for ``reconcile()``.
        """
        kind = kind or self.kind
        cname = self._csp_name(name, kind)
        row_id = self._store.reserve(self._ctx.connection, kind, name, cname, owner=owner, zone=zone,
                                     refs=refs, extra=extra)
        crash_point(f"{kind}.create:reserved")
        try:
            info = create_at_csp(cname)
        except CloudError as exc:
            if exc.throttled:
                self._store.drop(row_id)
                raise
            return self._after_ambiguous_create(row_id, name, kind, exc, recover)
        except BaseException:
            self._store.drop(row_id)
            raise
        crash_point(f"{kind}.create:csp-done")
        try:
            if finish is not None:
                finish(row_id, info)
            else:
                self._store.finish(row_id, info.iid.system_id, extra=extra)  # type: ignore[attr-defined]
            crash_point(f"{kind}.create:finished")
        except BaseException:
            # the CSP has it, the store could not say so: take it back rather than lose track
            log.error("store write failed after creating %s; deleting it at the CSP", self._label(name, kind))
            try:
                if take_back is not None:
                    take_back(info)
                else:
                    self._gated_delete(name, info.iid)  # type: ignore[attr-defined]
            except McInfraError as undo:  # the caller must see the first failure; the pending row stays
                log.error("could not delete %s at the CSP (%s): reconcile() will finish its row",
                          self._label(name, kind), undo)
            else:
                self._store.drop(row_id)
            raise
        return info

    def _after_ambiguous_create(self, row_id: int, name: str, kind: Kind, exc: CloudError,
                                recover: Callable[[IIDRecord, CloudError], T] | None) -> T:
        """A create failed in a way that may hide a lost reply: look the CSP name up."""
        rec = self._store.by_id(row_id)
        if rec is None:
            raise exc
        asked = True
        try:
            made = self.reconcile_pending(rec)
        except McInfraError as undo:
            asked, made = False, False
            log.error("%s: the create failed (%s) and the CSP could not be asked whether it acted (%s); "
                      "reconcile() will settle its row", self._label(name, kind), exc.code, type(undo).__name__)
        if not asked or not made:
            raise exc  # the CSP has nothing (the row is dropped), or nobody knows (the row stays pending)
        done = self._store.by_id(row_id)
        if done is None:
            raise exc
        log.warning("%s: the CSP made it although the call failed (%s): the reply was lost; mapped",
                    self._label(name, kind), exc.code)
        return (recover or self._recover)(done, exc)

    def _recover(self, rec: IIDRecord, exc: CloudError) -> Any:
        """The result of a create whose reply was lost (the resource is mapped by now)."""
        return self._gated("get", rec.name_id, self.handler.get, self._iid(rec))  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ the user's view
    def _user_view(self, info: Info, name: str, known: dict[str, str] | None = None) -> Info:
        """Rewrite a driver info for the user: own IID with the user's name, references as names
        (``known``: system_id -> name pairs the caller already has, saving store reads)."""
        return self._renamed(info, name)

    @staticmethod
    def _renamed(info: T, name: str, **fields: Any) -> T:
        """``info`` with the user's name in its IID and ``fields`` replaced, in one copy."""
        iid = IID(name_id=name, system_id=info.iid.system_id)  # type: ignore[attr-defined]
        return info.model_copy(update={"iid": iid, **fields})  # type: ignore[attr-defined]

    def _name_of(self, kind: str, system_ids: Iterable[str], known: dict[str, str] | None = None
                 ) -> Callable[[str], str]:
        """A mapper system_id -> user name (the CSP id itself when the store does not map it)."""
        known = known or {}
        missing = [s for s in system_ids if s not in known]
        names = {**known, **self._store.names_for(self._ctx.connection, kind, missing)} if missing else known
        return lambda sid: names.get(sid, sid)

    # ------------------------------------------------------------------ common calls
    def get(self, name: str) -> Info:
        name = v.name(name)
        with self._locks(reads=[self._key(name)]):
            rec = self._row(name, deleting=True)
            info = self._cached("get", "get", name, self.handler.get, self._iid(rec))
            return self._user_view(info, rec.name_id, rec.extra.get("ids"))

    def list(self) -> list[Info]:
        """Every resource of this kind the store maps, as the CSP reports it now."""
        rows = {r.system_id: r for r in self._mapped()}
        if not rows:
            return ResultList()
        infos = self._cached("list", "list", "*", self.handler.list)
        out = []
        for info in infos:
            rec = rows.pop(info.iid.system_id, None)
            if rec is not None:
                out.append(self._user_view(info, rec.name_id, rec.extra.get("ids")))
        for rec in rows.values():
            log.warning("%s is in the store but not at the CSP (see list_all)", self._label(rec.name_id))
        return ResultList(out)

    def _mapped(self, kind: Kind | None = None, owner: str | None = None) -> list[IIDRecord]:
        """The rows that map a CSP resource: ready, and being deleted (the CSP may have it still)."""
        return [r for r in self._store.list(self._ctx.connection, kind or self.kind, owner=owner)
                if r.state != "pending"]

    def delete(self, name: str, *, force: bool = False) -> None:
        """Delete at the CSP and forget the name. ``force``: forget it even if the CSP refuses.
        A delete interrupted by a crash (row 'deleting') may be repeated."""
        name, force = v.name(name), v.flag(force, "force")
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name, deleting=True)
            self._check_unused(name)
            self._mark_deleting(rec)
            self._delete_at_csp(rec, force, self._gated_delete)
            crash_point(f"{rec.kind}.delete:csp-done")
            self._store.drop(rec.id, rec)

    # ------------------------------------------------------------------ batches (see core/batch.py)
    def create_many(self, requests: Iterable[Any], *, concurrency: int = batch.DEFAULT_CONCURRENCY,
                    progress: ItemProgress | bool | None = None, rollback_on_failure: bool = False,
                    cancel: batch.Cancel | None = None) -> BatchResult:
        """``create`` (VMs: ``start``) once per request, at most ``concurrency`` at once. A request
        is the kind's request model (``VPCCreateReq``...) or a mapping of the single call's
        keyword arguments with ``name``. Every request is checked before anything runs (a bad one:
        ``InvalidBatchRequest`` naming its index and field); then each gets its own result or
        error in the ``BatchResult``. ``cancel``: a ``CancelToken`` that stops new items;
        ``rollback_on_failure``: a failure stops new items and deletes what this batch made."""
        return batch.many(self, batch.kind_op(self.kind, "create"), requests, concurrency=concurrency,
                          progress=progress, rollback_on_failure=rollback_on_failure, cancel=cancel)

    def delete_many(self, names: Iterable[Any], *, force: bool = False,
                    concurrency: int = batch.DEFAULT_CONCURRENCY, progress: ItemProgress | bool | None = None,
                    cancel: batch.Cancel | None = None) -> BatchResult:
        """``delete(name, force=force)`` once per name, as one batch (see :meth:`create_many`)."""
        return batch.many(self, batch.kind_op(self.kind, "delete"), names, what="names",
                          defaults={"force": v.flag(force, "force")}, concurrency=concurrency, progress=progress,
                          cancel=cancel)

    def _mark_deleting(self, rec: IIDRecord) -> None:
        """Say in the store that the delete is under way, before the CSP is asked: a crash from
        here on leaves a 'deleting' row that ``reconcile()`` closes."""
        if rec.state == "ready":
            self._store.set_state(rec.id, "deleting", expect="ready")
        crash_point(f"{rec.kind}.delete:marked")

    def _delete_at_csp(self, rec: IIDRecord, force: bool, delete: Callable[[str, IID], T], *,
                       restore: bool = True) -> T | None:
        """``delete(name, iid)`` at the CSP for a row marked 'deleting'. Returns normally when the
        resource is gone (or ``force``); raises otherwise, with the row back to 'ready' when the
        CSP refused (``restore=False``: left 'deleting', for a delete nobody takes back), or left
        'deleting' when nobody can tell whether it acted."""
        try:
            return delete(rec.name_id, self._iid(rec))
        except NotFound:
            log.info("%s was already gone at the CSP", self._label(rec.name_id, Kind(rec.kind)))
            return None
        except McInfraError as exc:
            if force:
                log.warning("force-deleting %s although the CSP refused", self._label(rec.name_id, Kind(rec.kind)))
                return None
            if isinstance(exc, CloudError) and not exc.throttled:
                present = self._exists_or_none(rec)  # the reply may have been lost after the CSP acted: ask
                if present is None:
                    log.error("%s: the delete failed (%s) and the CSP could not be asked whether it acted; "
                              "reconcile() will finish it", self._label(rec.name_id, Kind(rec.kind)), exc.code)
                    raise
                if not present:
                    log.warning("%s: the CSP deleted it although the call failed (%s): the reply was lost",
                                self._label(rec.name_id, Kind(rec.kind)), exc.code)
                    return None
            if restore:
                self._store.set_state(rec.id, "ready", expect="deleting")
            raise

    def _exists_or_none(self, rec: IIDRecord) -> bool | None:
        """:meth:`_exists_at_csp`, or None when the CSP cannot be asked."""
        try:
            return self._exists_at_csp(rec)
        except McInfraError as exc:
            log.info("%s: cannot ask the CSP whether it exists: %s", self._label(rec.name_id, Kind(rec.kind)), exc)
            return None

    def _exists_at_csp(self, rec: IIDRecord) -> bool:
        """Whether the CSP still has the resource of a row (by its CSP id)."""
        return any(i.system_id == rec.system_id
                   for i in self._gated("list_iids", "*", self.handler.list_iids))  # type: ignore[attr-defined]

    def reconcile_deleting(self, rec: IIDRecord) -> bool:
        """Close a 'deleting' row left by a crash: the CSP still has the resource -> delete it
        again; then drop the row. True when the CSP still had it."""
        present = self._exists_at_csp(rec)
        if present:  # a failure leaves the row 'deleting' for the next run
            self._delete_at_csp(rec, False, self._gated_delete, restore=False)
        self._store.drop(rec.id, rec)
        return present

    def register(self, name: str, system_id: str) -> Info:
        """Adopt an existing CSP resource under ``name`` (the CSP resource is not changed)."""
        name = v.name(name)
        if not isinstance(system_id, str) or not system_id.strip():
            raise InvalidRequest("system_id must be a non-empty CSP id", field="system_id")
        # the CSP id is locked too: two names racing for one resource meet here (and, across
        # processes, at the store's unique index on the id)
        with self._locks(writes=[self._key(name), self._key(f"#{system_id}")]):
            if self._store.get(self._ctx.connection, self.kind, name) is not None:
                raise AlreadyExists(f"{self._label(name)} already exists")
            mapped = self._store.names_for(self._ctx.connection, self.kind, [system_id])
            if mapped:
                raise AlreadyExists(f"CSP id {system_id!r} is already mapped as {mapped[system_id]!r}")
            info = self._gated("get", name, self.handler.get, IID(name_id=system_id, system_id=system_id))
            extra, refs = self._adopted_links(info)
            self._store.add_ready(
                self._ctx.connection, self.kind,
                [{"name_id": name, "system_id": info.iid.system_id, "csp_name": info.iid.name_id or system_id,
                  "zone": getattr(info, "zone", None), "extra": extra}],
                refs={name: refs},
            )
            self._after_register(name, info)
            return self._user_view(info, name)

    def _adopted_links(self, info: Info) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """For a registered resource: its row's extra, and the references it holds (only to
        resources the store maps)."""
        return {}, []

    def _after_register(self, name: str, info: Info) -> None:
        """Kind-specific follow-up (a VPC registers its subnets)."""

    def unregister(self, name: str) -> None:
        """Forget the name; the CSP resource stays."""
        name = v.name(name)
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name)
            self._check_unused(name)
            self._store.drop(rec.id, rec)

    def list_all(self) -> ListAll:
        rows = self._mapped()
        csp = self._cached("list_all", "list_iids", "*", self.handler.list_iids)
        csp_ids = {i.system_id for i in csp}
        mapped_ids = {r.system_id for r in rows}
        return ListAll(
            mapped=[IID(name_id=r.name_id, system_id=r.system_id) for r in rows if r.system_id in csp_ids],
            only_store=[IID(name_id=r.name_id, system_id=r.system_id) for r in rows if r.system_id not in csp_ids],
            only_csp=[i for i in csp if i.system_id not in mapped_ids],
        )

    def reconcile_pending(self, rec: IIDRecord) -> bool:
        """Finish a pending row left by a crash if the CSP has its resource (found by CSP name);
        else drop it. True when finished."""
        found = next((i for i in self._gated("list_iids", "*", self.handler.list_iids)
                      if i.name_id == rec.csp_name), None)
        if found is None:
            self._store.drop(rec.id, rec)
            return False
        self._store.finish(rec.id, found.system_id)
        return True

    def delete_csp(self, system_id: str) -> None:
        """Delete a CSP resource the store does not map."""
        if not isinstance(system_id, str) or not system_id.strip():
            raise InvalidRequest("system_id must be a non-empty CSP id", field="system_id")
        mapped = self._store.names_for(self._ctx.connection, self.kind, [system_id])
        if mapped:
            raise InvalidRequest(
                f"CSP id {system_id!r} is mapped as {mapped[system_id]!r}; delete it by name", field="system_id"
            )
        iid = IID(name_id=system_id, system_id=system_id)
        self._gated_delete(system_id, iid)
