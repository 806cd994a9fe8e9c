"""GCP has no key-pair resource: keys are generated (or imported) here, the core keeps the
public key, and VMs get it through instance metadata ``ssh-keys`` as ``cb-user:<key>``.

So only ``create`` talks to nothing at all; get/list/delete are served by the core from its
store (``Capabilities.keypair_objects=False``) and raise ``Unsupported`` here.
"""

from __future__ import annotations

import base64
import hashlib

from mcinfra.core.errors import InvalidRequest, Unsupported
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.gcp.client import check_name
from mcinfra.drivers.gcp.options import KeyType


def fingerprint(public_openssh: str) -> str:
    """OpenSSH's SHA256 fingerprint of a public key line."""
    parts = public_openssh.split()
    blob = base64.b64decode(parts[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def generate(key_type: str, comment: str) -> tuple[str, str]:
    """(private key PEM/OpenSSH, public key OpenSSH line)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    if key_type == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private.decode(), f"{public.decode()} {comment}"


def parse_public_key(text: str) -> str:
    """A validated OpenSSH public key line (type + base64, comment dropped)."""
    from cryptography.hazmat.primitives import serialization

    parts = (text or "").strip().split()
    if len(parts) < 2:
        raise InvalidRequest("public_key is not an OpenSSH public key line", field="public_key")
    try:
        serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode())
    except (ValueError, TypeError):
        raise InvalidRequest("public_key is not a valid OpenSSH public key", field="public_key") from None
    return f"{parts[0]} {parts[1]}"


class GcpKeyPairHandler(KeyPairHandler):
    def __init__(self, key_type: KeyType = "ed25519", vm_user: str = "cb-user") -> None:
        self.key_type = key_type  # checked by GcpOptions
        self.vm_user = vm_user

    def create(self, req: KeyPairReq) -> KeyPairInfo:
        check_name(req.name, "key pair")
        if req.public_key:
            public = parse_public_key(req.public_key)
            return KeyPairInfo(
                iid=IID(name_id=req.name, system_id=req.name),
                fingerprint=fingerprint(public),
                public_key=public,
                vm_user=self.vm_user,
                extra={"imported": True},
            )
        private, public = generate(self.key_type, self.vm_user)
        return KeyPairInfo(
            iid=IID(name_id=req.name, system_id=req.name),
            fingerprint=fingerprint(public),
            public_key=public,
            private_key=private,
            vm_user=self.vm_user,
            extra={"key_type": self.key_type},
        )

    def _served_by_core(self) -> Unsupported:
        return Unsupported("gcp has no key-pair objects: the core serves key pairs from its store")

    def get(self, iid: IID) -> KeyPairInfo:
        raise self._served_by_core()

    def list(self) -> list[KeyPairInfo]:
        raise self._served_by_core()

    def delete(self, iid: IID) -> None:
        raise self._served_by_core()
