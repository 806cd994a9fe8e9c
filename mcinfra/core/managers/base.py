"""What every resource manager shares: the call sequence of DESIGN.md §6.

validate -> take SP-Locks -> resolve names via the store -> write a pending IID row -> call the
handler (through the connection's CallGate) -> finish the row (or drop it on failure) -> release.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mcinfra.core import validation as v
from mcinfra.core.errors import AlreadyExists, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.models import IID, ListAll
from mcinfra.core.naming import csp_name
from mcinfra.store import IIDRecord

if TYPE_CHECKING:
    from mcinfra.core.connection import Connection
    from mcinfra.splock import LockKey

log = logging.getLogger("mcinfra")
I = TypeVar("I")  # noqa: E741 - the info model of a kind

KIND_LABEL = {
    "vpc": "VPC", "subnet": "subnet", "security_group": "security group", "keypair": "key pair",
    "vm": "VM", "nlb": "NLB",
}


class ResourceManager(Generic[I]):
    kind: str = ""
    #: handler method used for deletes (VMs: "terminate")
    delete_op = "delete"

    def __init__(self, conn: Connection) -> None:
        self._c = conn
        self._store = conn.infra.store

    def __repr__(self) -> str:
        return f"<{type(self).__name__} connection={self._c.name!r}>"

    # ------------------------------------------------------------------ plumbing
    @property
    def handler(self) -> Any:
        return self._c.handler(self.kind)

    def _key(self, name: str, kind: str | None = None) -> LockKey:
        return (self._c.name, kind or self.kind, name)

    def _locks(self, writes: Iterable[LockKey] = (), reads: Iterable[LockKey] = ()) -> Any:
        return self._c.infra.locks.hold(writes=writes, reads=reads)

    def _call(self, op: str, name: str, fn: Callable[..., Any], *args: Any,
              kind: str | None = None) -> Any:
        return self._c.gate(kind or self.kind, op, name, fn, *args)

    def _label(self, name: str, kind: str | None = None) -> str:
        return f"{KIND_LABEL.get(kind or self.kind, kind or self.kind)} {name!r} in connection {self._c.name!r}"

    def _row(self, name: str, kind: str | None = None, owner: str = "") -> IIDRecord:
        rec = self._store.get(self._c.name, kind or self.kind, name, owner)
        if rec is None or rec.state != "ready":
            where = f" (VPC {owner!r})" if owner else ""
            state = " (still being created)" if rec is not None else ""
            raise NotFound(f"{self._label(name, kind)}{where} does not exist{state}")
        return rec

    def _iid(self, rec: IIDRecord) -> IID:
        """The IID a driver understands: (CSP-side name, CSP id)."""
        return IID(name_id=rec.csp_name, system_id=rec.system_id)

    def _csp_name(self, name: str, kind: str | None = None) -> str:
        return csp_name(name, kind or self.kind, self._c.capabilities.name_rules)

    def _check_unused(self, name: str, kind: str | None = None, ref_name: str | None = None) -> None:
        users = self._store.referrers(self._c.name, kind or self.kind, ref_name or name)
        if users:
            listed = ", ".join(f"{KIND_LABEL.get(k, k)} {n!r}" for k, n in users[:10])
            raise InUse(f"{self._label(name, kind)} is used by {listed}")

    def _create(self, name: str, call: Callable[[str], I], *, refs: Iterable[tuple[str, str]] = (),
                owner: str = "", zone: str | None = None, extra: dict[str, Any] | None = None,
                finish: Callable[[int, I], None] | None = None) -> I:
        """Reserve the name, run ``call(csp_name)``, finish the row; undo on any failure."""
        cname = self._csp_name(name)
        row_id = self._store.reserve(self._c.name, self.kind, name, cname, owner=owner, zone=zone,
                                     refs=refs, extra=extra)
        try:
            info = call(cname)
        except BaseException:
            self._store.drop(row_id)
            raise
        try:
            if finish is not None:
                finish(row_id, info)
            else:
                self._store.finish(row_id, info.iid.system_id, extra=extra)  # type: ignore[attr-defined]
        except BaseException:
            # the CSP has it, the store could not say so: take it back rather than lose track
            log.error("store write failed after creating %s; deleting it at the CSP", self._label(name))
            try:
                self._call(self.delete_op, name, getattr(self.handler, self.delete_op), info.iid)  # type: ignore[attr-defined]
            except McInfraError as undo:  # the caller must see the first failure; the pending row stays
                log.error("could not delete %s at the CSP (%s): reconcile() will finish its row",
                          self._label(name), undo)
            else:
                self._store.drop(row_id)
            raise
        return info

    # ------------------------------------------------------------------ the user's view
    def _user_view(self, info: I, name: str, known: dict[str, str] | None = None) -> I:
        """Rewrite a driver info for the user: own IID with the user's name, references as names
        (``known``: system_id -> name pairs the caller already has, saving store reads)."""
        iid = IID(name_id=name, system_id=info.iid.system_id)  # type: ignore[attr-defined]
        return info.model_copy(update={"iid": iid})  # type: ignore[attr-defined]

    def _name_of(self, kind: str, system_ids: Iterable[str], known: dict[str, str] | None = None
                 ) -> Callable[[str], str]:
        """A mapper system_id -> user name (the CSP id itself when the store does not map it)."""
        known = known or {}
        missing = [s for s in system_ids if s not in known]
        names = {**known, **self._store.names_for(self._c.name, kind, missing)} if missing else known
        return lambda sid: names.get(sid, sid)

    # ------------------------------------------------------------------ common calls
    def get(self, name: str) -> I:
        name = v.name(name)
        with self._locks(reads=[self._key(name)]):
            rec = self._row(name)
            info = self._call("get", name, self.handler.get, self._iid(rec))
            return self._user_view(info, rec.name_id, rec.extra.get("ids"))

    def list(self) -> list[I]:
        """Every resource of this kind the store maps, as the CSP reports it now."""
        rows = {r.system_id: r for r in self._store.list(self._c.name, self.kind, state="ready")}
        if not rows:
            return []
        infos = self._call("list", "*", self.handler.list)
        out = []
        for info in infos:
            rec = rows.pop(info.iid.system_id, None)
            if rec is not None:
                out.append(self._user_view(info, rec.name_id, rec.extra.get("ids")))
        for rec in rows.values():
            log.warning("%s is in the store but not at the CSP (see list_all)", self._label(rec.name_id))
        return out

    def delete(self, name: str, *, force: bool = False) -> None:
        """Delete at the CSP and forget the name. ``force``: forget it even if the CSP refuses."""
        name = v.name(name)
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name)
            self._check_unused(name)
            self._delete_at_csp(rec, force)
            self._store.drop(rec.id, rec)

    def _delete_at_csp(self, rec: IIDRecord, force: bool) -> None:
        try:
            self._call(self.delete_op, rec.name_id, getattr(self.handler, self.delete_op), self._iid(rec))
        except NotFound:
            log.info("%s was already gone at the CSP", self._label(rec.name_id))
        except McInfraError:
            if not force:
                raise
            log.warning("force-deleting %s although the CSP refused", self._label(rec.name_id))

    def register(self, name: str, system_id: str) -> I:
        """Adopt an existing CSP resource under ``name`` (the CSP resource is not changed)."""
        name = v.name(name)
        if not isinstance(system_id, str) or not system_id.strip():
            raise InvalidRequest("system_id must be a non-empty CSP id", field="system_id")
        with self._locks(writes=[self._key(name)]):
            if self._store.get(self._c.name, self.kind, name) is not None:
                raise AlreadyExists(f"{self._label(name)} already exists")
            mapped = self._store.names_for(self._c.name, self.kind, [system_id])
            if mapped:
                raise AlreadyExists(f"CSP id {system_id!r} is already mapped as {mapped[system_id]!r}")
            info = self._call("get", name, self.handler.get, IID(name_id=system_id, system_id=system_id))
            extra, refs = self._adopted_links(info)
            self._store.add_ready(
                self._c.name, self.kind,
                [{"name_id": name, "system_id": info.iid.system_id, "csp_name": info.iid.name_id or system_id,
                  "zone": getattr(info, "zone", None), "extra": extra}],
                refs={name: refs},
            )
            self._after_register(name, info)
            return self._user_view(info, name)

    def _adopted_links(self, info: I) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """For a registered resource: its row's extra, and the references it holds (only to
        resources the store maps)."""
        return {}, []

    def _after_register(self, name: str, info: I) -> None:
        """Kind-specific follow-up (a VPC registers its subnets)."""

    def unregister(self, name: str) -> None:
        """Forget the name; the CSP resource stays."""
        name = v.name(name)
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name)
            self._check_unused(name)
            self._store.drop(rec.id, rec)

    def list_all(self) -> ListAll:
        rows = self._store.list(self._c.name, self.kind, state="ready")
        csp = self._call("list_iids", "*", self.handler.list_iids)
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
        found = next((i for i in self._call("list_iids", "*", self.handler.list_iids)
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
        mapped = self._store.names_for(self._c.name, self.kind, [system_id])
        if mapped:
            raise InvalidRequest(
                f"CSP id {system_id!r} is mapped as {mapped[system_id]!r}; delete it by name", field="system_id"
            )
        iid = IID(name_id=system_id, system_id=system_id)
        self._call(self.delete_op, system_id, getattr(self.handler, self.delete_op), iid)
