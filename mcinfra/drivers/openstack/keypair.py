"""Key pairs = Nova key pairs. The key is generated here and imported (Nova stopped generating
keys at microversion 2.92, and a key made here never crosses the network in private form)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.keys import generate_ssh_keypair
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.openstack.client import OpenStackClient


def keypair_info(kp: Any, private_key: str | None = None) -> KeyPairInfo:
    return KeyPairInfo(
        iid=IID(name_id=kp.name, system_id=kp.name),
        fingerprint=kp.fingerprint or "",
        public_key=kp.public_key or "",
        private_key=private_key,
        extra={"type": getattr(kp, "type", None) or "ssh"},
    )


class OpenStackKeyPairHandler(KeyPairHandler):
    """Nova names key pairs by their name: the system id is the CSP-side name."""

    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    def create(self, req: KeyPairReq) -> KeyPairInfo:
        private, public = (None, req.public_key) if req.public_key else generate_ssh_keypair(req.name)
        try:
            kp = self.client.write(
                f"key pair {req.name}", self.client.compute.create_keypair, name=req.name, public_key=public, type="ssh"
            )
        except CloudError as exc:
            if exc.code == "conflictingRequest":  # Nova: "Key pair 'x' already exists."
                raise AlreadyExists(f"[openstack] key pair {req.name} already exists") from exc
            raise
        return keypair_info(kp, private)

    def get(self, iid: IID) -> KeyPairInfo:
        return keypair_info(
            self.client.read(f"key pair {iid.system_id}", self.client.compute.get_keypair, iid.system_id)
        )

    def list(self) -> list[KeyPairInfo]:
        return [keypair_info(k) for k in self.client.list("key pairs", self.client.compute.keypairs)]

    def delete(self, iid: IID) -> None:
        self.client.delete(
            f"key pair {iid.system_id}", self.client.compute.delete_keypair, iid.system_id, ignore_missing=False
        )
