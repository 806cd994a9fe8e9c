"""ECS key pairs: the key pair's name is its id. Create returns the private key once
(``PrivateKeyBody``); a given public key is imported (``ImportKeyPair``)."""

from __future__ import annotations

import json
from typing import Any

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.alibaba.client import PROVIDER, AliClient
from mcinfra.drivers.kit import describe_one

_KEY_TYPES = ("ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521")


class AliKeyPairHandler(KeyPairHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    @staticmethod
    def _info(pair: Any, private_key: str | None = None) -> KeyPairInfo:
        return KeyPairInfo(
            iid=IID(name_id=pair.key_pair_name, system_id=pair.key_pair_name),
            fingerprint=pair.key_pair_finger_print or "",
            public_key=getattr(pair, "public_key", None) or "",
            private_key=private_key,
            extra={"created": getattr(pair, "creation_time", None)},
        )

    def _pairs(self, name: str | None = None) -> list[Any]:
        fields: dict[str, Any] = {"region_id": self.api.region, "include_public_key": True}
        if name:
            fields["key_pair_name"] = name
        return list(self.api.pages("ecs", "DescribeKeyPairs", lambda b: b.key_pairs.key_pair, **fields))

    def create(self, req: KeyPairReq) -> KeyPairInfo:
        if req.public_key is not None:
            parts = req.public_key.split()
            if len(parts) < 2 or parts[0] not in _KEY_TYPES:
                raise InvalidRequest(
                    "public_key is not an OpenSSH public key (e.g. 'ssh-ed25519 AAAA...')", field="public_key"
                )
            self.api.call(
                "ecs",
                "ImportKeyPair",
                what=req.name,
                region_id=self.api.region,
                key_pair_name=req.name,
                public_key_body=" ".join(parts[:2]),
            )
            return self.get(IID(name_id=req.name, system_id=req.name))
        made = self.api.call("ecs", "CreateKeyPair", what=req.name, region_id=self.api.region, key_pair_name=req.name)
        info = self.get(IID(name_id=req.name, system_id=req.name))
        return info.model_copy(update={"private_key": made.private_key_body})

    def get(self, iid: IID) -> KeyPairInfo:
        # KeyPairName filters by prefix-like match on Alibaba: pick the exact one
        found = (p for p in self._pairs(iid.system_id) if p.key_pair_name == iid.system_id)
        return self._info(describe_one(found, f"[{PROVIDER}] key pair {iid.system_id}"))

    def list(self) -> list[KeyPairInfo]:
        return [self._info(p) for p in self._pairs()]

    def delete(self, iid: IID) -> None:
        self.get(iid)  # DeleteKeyPairs answers 200 for names it does not have
        self.api.call(
            "ecs",
            "DeleteKeyPairs",
            what=iid.system_id,
            region_id=self.api.region,
            key_pair_names=json.dumps([iid.system_id]),
        )
