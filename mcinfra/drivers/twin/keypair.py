"""Key pairs: generated here (RSA 2048, PEM), kept by the twin as public keys only."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from mcinfra.core.errors import AlreadyExists, InvalidRequest, NotFound
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.twin.state import Region, now


def generate() -> tuple[str, str]:
    """(private key PEM, OpenSSH public key)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def fingerprint(public_key: str) -> str:
    parts = public_key.split()
    if len(parts) < 2:
        raise InvalidRequest("public key is not in OpenSSH format ('<type> <base64> [comment]')")
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError as exc:
        raise InvalidRequest("public key is not in OpenSSH format (bad base64)") from exc
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class TwinKeyPairHandler(KeyPairHandler):
    def __init__(self, region: Region) -> None:
        self.region = region

    def _info(self, kid: str, kp: dict[str, Any], private: str | None = None) -> KeyPairInfo:
        return KeyPairInfo(
            iid=IID(name_id=kp["name"], system_id=kid),
            fingerprint=kp["fingerprint"],
            public_key=kp["public_key"],
            private_key=private,
            extra={"created_at": kp["created_at"]},
        )

    def create(self, req: KeyPairReq) -> KeyPairInfo:
        private: str | None = None
        if req.public_key:
            public = req.public_key.strip()
        else:
            private, public = generate()
        fp = fingerprint(public)
        with self.region.locked() as st:
            if any(kp["name"] == req.name for kp in st["keypairs"].values()):
                raise AlreadyExists(f"twin key pair {req.name!r} already exists")
            kid = self.region.system_id("key", self.region.new_index(st))
            kp = {
                "name": req.name,
                "public_key": f"{public.split()[0]} {public.split()[1]} {req.name}",
                "fingerprint": fp,
                "created_at": now(),
            }
            st["keypairs"][kid] = kp
            return self._info(kid, kp, private)

    def get(self, iid: IID) -> KeyPairInfo:
        st = self.region.read()
        kp = st["keypairs"].get(iid.system_id)
        if kp is None:
            raise NotFound(f"twin key pair {iid.system_id!r} not found")
        return self._info(iid.system_id, kp)

    def list(self) -> list[KeyPairInfo]:
        st = self.region.read()
        return [self._info(k, v) for k, v in st["keypairs"].items()]

    def delete(self, iid: IID) -> None:
        with self.region.locked() as st:
            kp = st["keypairs"].get(iid.system_id)
            if kp is None:
                raise NotFound(f"twin key pair {iid.system_id!r} not found")
            # like AWS, a key pair may go while VMs still hold its public key in authorized_keys
            del st["keypairs"][iid.system_id]
