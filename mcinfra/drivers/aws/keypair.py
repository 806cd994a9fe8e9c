"""Key pairs kept by EC2. The private key leaves AWS once, in create's answer."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.aws.client import AwsClient, tag_spec


def public_key_of(private_pem: str) -> str:
    """The OpenSSH public key of a PEM private key (AWS's create does not return it)."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


class AwsKeyPairHandler(KeyPairHandler):
    def __init__(self, client: AwsClient) -> None:
        self.api = client

    @staticmethod
    def _info(kp: dict[str, Any], public_key: str = "", private_key: str | None = None) -> KeyPairInfo:
        # The key name is both the CSP name and the id run_instances takes.
        return KeyPairInfo(
            iid=IID(name_id=kp["KeyName"], system_id=kp["KeyName"]),
            fingerprint=kp.get("KeyFingerprint", ""),
            public_key=(public_key or kp.get("PublicKey", "")).strip(),
            private_key=private_key,
            extra={"key_pair_id": kp.get("KeyPairId"), "key_type": kp.get("KeyType")},
        )

    def create(self, req: KeyPairReq) -> KeyPairInfo:
        if req.public_key:
            if not req.public_key.strip().startswith(("ssh-rsa ", "ssh-ed25519 ", "ecdsa-sha2-")):
                raise InvalidRequest("public_key must be an OpenSSH public key", field="public_key")
            made = self.api.call(
                "ec2",
                "import_key_pair",
                what=f"key pair {req.name}",
                KeyName=req.name,
                PublicKeyMaterial=req.public_key.strip().encode(),
                TagSpecifications=tag_spec("key-pair", req.name),
            )
            return self._info(made, public_key=req.public_key)
        made = self.api.call(
            "ec2",
            "create_key_pair",
            what=f"key pair {req.name}",
            KeyName=req.name,
            KeyType="rsa",
            KeyFormat="pem",
            TagSpecifications=tag_spec("key-pair", req.name),
        )
        private = made.get("KeyMaterial", "")
        try:
            public = public_key_of(private)
        except (ValueError, TypeError):
            public = ""
        return self._info(made, public_key=public, private_key=private)

    def _describe(self, name: str) -> dict[str, Any]:
        return self.api.describe(
            "ec2", "describe_key_pairs", "KeyPairs", what=f"key pair {name}", KeyNames=[name], IncludePublicKey=True
        )

    def get(self, iid: IID) -> KeyPairInfo:
        return self._info(self._describe(iid.system_id))

    def list(self) -> list[KeyPairInfo]:
        out = self.api.call("ec2", "describe_key_pairs", IncludePublicKey=True)["KeyPairs"]
        return [self._info(kp) for kp in out]

    def delete(self, iid: IID) -> None:
        # EC2's DeleteKeyPair succeeds for a missing key, so look first to report NotFound.
        self._describe(iid.system_id)
        self.api.call("ec2", "delete_key_pair", what=f"key pair {iid.system_id}", KeyName=iid.system_id)
