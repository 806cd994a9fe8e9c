"""Key pairs = CVM key pairs (CVM API 2017-03-12): CreateKeyPair returns the private key once;
ImportKeyPair takes an OpenSSH public key. Keys are bound to instances at RunInstances
(``LoginSettings.KeyIds``).

DeleteKeyPairs is documented to leave a key an instance or image still uses and answer success,
so the delete reads the key again and reports ``InUse`` when it is still there.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.keys import fingerprint, is_openssh_public_key
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.kit import describe_one
from mcinfra.drivers.tencent.client import TencentClient


def _fingerprint(public_key: str) -> str:
    """The key's SHA256 fingerprint, or "" when the API's PublicKey is not a whole OpenSSH key
    (Tencent's own published example answers an abridged one)."""
    try:
        return fingerprint(public_key) if public_key else ""
    except ValueError:  # binascii.Error is a ValueError
        return ""


def keypair_info(k: Any, private_key: str | None = None) -> KeyPairInfo:
    public = k.PublicKey or ""
    return KeyPairInfo(
        iid=IID(name_id=k.KeyName, system_id=k.KeyId),
        fingerprint=_fingerprint(public),
        public_key=public,
        private_key=private_key,
        extra={"associated_instances": list(k.AssociatedInstanceIds or []), "created": k.CreatedTime},
    )


class TencentKeyPairHandler(KeyPairHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    def _key(self, key_id: str) -> Any:
        page = self.api.call("cvm", "DescribeKeyPairs", {"KeyIds": [key_id]}, idempotent=True)
        return describe_one(page.KeyPairSet or [], f"key pair {key_id}")

    def create(self, req: KeyPairReq) -> KeyPairInfo:
        project = self.api.options.project_id
        if req.public_key is not None:
            if not is_openssh_public_key(req.public_key):
                raise InvalidRequest("public_key is not an OpenSSH public key", field="public_key")
            params = {"KeyName": req.name, "ProjectId": project, "PublicKey": req.public_key.strip()}
            key_id = self.api.call("cvm", "ImportKeyPair", params, idempotent=False).KeyId
            return keypair_info(self._key(key_id))
        made = self.api.call("cvm", "CreateKeyPair", {"KeyName": req.name, "ProjectId": project},
                           idempotent=False).KeyPair
        return keypair_info(made, private_key=made.PrivateKey)

    def get(self, iid: IID) -> KeyPairInfo:
        return keypair_info(self._key(iid.system_id))

    def list(self) -> list[KeyPairInfo]:
        return [keypair_info(k) for k in self.api.list_all("cvm", "DescribeKeyPairs", "KeyPairSet")]

    def delete(self, iid: IID) -> None:
        self._key(iid.system_id)
        self.api.call("cvm", "DeleteKeyPairs", {"KeyIds": [iid.system_id]}, idempotent=True)
        try:
            left = self._key(iid.system_id)
        except NotFound:
            return
        users = ", ".join(left.AssociatedInstanceIds or []) or "an instance or image"
        raise InUse(f"[tencent] key pair {iid.system_id} is still bound to {users}")
