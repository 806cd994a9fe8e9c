from __future__ import annotations

from typing import Any

from mcinfra.core import validation as v
from mcinfra.core.display import ResultList
from mcinfra.core.errors import CloudError, InvalidRequest, McInfraError, Unsupported
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.keys import is_openssh_public_key
from mcinfra.core.managers.base import ResourceManager
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq, Kind, ListAll
from mcinfra.store import IIDRecord


class KeyPairManager(ResourceManager[KeyPairInfo, KeyPairHandler]):
    """Key pairs. The private key is in the result of ``create`` only: it is never stored.

    For CSPs without key-pair objects (``Capabilities.keypair_objects=False``, e.g. GCP) the
    store is the key pair: get/list/delete never reach the CSP, and VM starts get the public key.
    """

    kind = Kind.KEYPAIR

    @property
    def handler(self) -> KeyPairHandler:
        return self._ctx.handlers.keypair

    @property
    def _in_store(self) -> bool:
        return not self._ctx.capabilities.keypair_objects

    def create(self, name: str, *, public_key: str | None = None) -> KeyPairInfo:
        """Create a key pair, or import ``public_key`` (OpenSSH format) under this name."""
        name = v.name(name)
        if public_key is not None and not is_openssh_public_key(public_key):
            raise InvalidRequest("public_key must be an OpenSSH public key ('ssh-ed25519 AAAA...')",
                                 field="public_key")
        with self._locks(writes=[self._key(name)]):
            def create_at_csp(cname: str) -> KeyPairInfo:
                return self._gated("create", name, self.handler.create, KeyPairReq(name=cname, public_key=public_key))

            def finish(row_id: int, info: KeyPairInfo) -> None:
                self._store.finish(row_id, info.iid.system_id, extra=self._key_extra(info))

            info = self._create_tracked(name, create_at_csp, finish=finish,
                                        recover=None if public_key else self._take_back_lost)
            return info.model_copy(update={"iid": IID(name_id=name, system_id=info.iid.system_id)})

    @staticmethod
    def _key_extra(info: KeyPairInfo) -> dict[str, Any]:
        return {"public_key": info.public_key, "fingerprint": info.fingerprint, "vm_user": info.vm_user}

    def _adopted_links(self, info: KeyPairInfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        return self._key_extra(info), []

    def _user_view(self, info: KeyPairInfo, name: str, known: dict[str, str] | None = None) -> KeyPairInfo:
        return info.model_copy(update={"iid": IID(name_id=name, system_id=info.iid.system_id), "private_key": None})

    def _from_store(self, rec: IIDRecord) -> KeyPairInfo:
        return KeyPairInfo(iid=IID(name_id=rec.name_id, system_id=rec.system_id),
                           public_key=rec.extra.get("public_key", ""), fingerprint=rec.extra.get("fingerprint", ""),
                           vm_user=rec.extra.get("vm_user", "cb-user"))

    def get(self, name: str) -> KeyPairInfo:
        if not self._in_store:
            return super().get(name)
        return self._from_store(self._row(v.name(name)))

    def list(self) -> list[KeyPairInfo]:
        if not self._in_store:
            return super().list()
        return ResultList(self._from_store(r) for r in self._store.list(self._ctx.connection, self.kind, state="ready"))

    def delete(self, name: str, *, force: bool = False) -> None:
        if not self._in_store:
            return super().delete(name, force=force)
        name, force = v.name(name), v.flag(force, "force")
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name, deleting=True)
            self._check_unused(name)
            self._store.drop(rec.id, rec)
        return None

    def list_all(self) -> ListAll:
        if not self._in_store:
            return super().list_all()
        return ListAll(mapped=[IID(name_id=r.name_id, system_id=r.system_id)
                               for r in self._store.list(self._ctx.connection, self.kind, state="ready")])

    def register(self, name: str, system_id: str) -> KeyPairInfo:
        if self._in_store:
            raise Unsupported(f"provider '{self._ctx.provider}' has no key-pair objects to register; "
                              "use create(name, public_key=...) to import a public key")
        return super().register(name, system_id)

    def _take_back_lost(self, rec: IIDRecord, exc: CloudError) -> KeyPairInfo:
        """The reply of a create was lost, but the CSP made the key pair: its private key is
        gone with the reply, so the key pair is no use (an imported public key loses nothing:
        that one is kept and returned). It is deleted and the error raised (the
        caller may create it again); if the delete fails, the row stays 'deleting' for
        ``reconcile()``."""
        self._store.set_state(rec.id, "deleting", expect="ready")
        try:
            self._delete_at_csp(rec, False, self._gated_delete, restore=False)
        except McInfraError:
            pass  # the row stays 'deleting'
        else:
            self._store.drop(rec.id, rec)
        raise exc

    def reconcile_deleting(self, rec: IIDRecord) -> bool:
        if self._in_store:
            self._store.drop(rec.id, rec)
            return False
        return super().reconcile_deleting(rec)

    def reconcile_pending(self, rec: IIDRecord) -> bool:
        if self._in_store:  # nothing at the CSP: the key was generated and lost with the crash
            self._store.drop(rec.id, rec)
            return False
        return super().reconcile_pending(rec)
