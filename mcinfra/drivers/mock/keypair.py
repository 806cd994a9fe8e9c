from __future__ import annotations

from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.keys import fingerprint, generate_ssh_keypair
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.mock.client import MockHandler


class MockKeyPairs(MockHandler, KeyPairHandler):
    def create(self, req: KeyPairReq) -> KeyPairInfo:
        private, public = (None, req.public_key) if req.public_key else generate_ssh_keypair(req.name)
        with self.write("CreateKeyPair") as data:
            info = KeyPairInfo(iid=IID(name_id=req.name, system_id=self.behaviour.new_id("key")),
                               public_key=public or "", fingerprint=fingerprint(public or ""))
            self.add(data, "keypair", info.model_dump(mode="json"), "key pair")  # the private key is not kept
            return info.model_copy(update={"private_key": private})

    def get(self, iid: IID) -> KeyPairInfo:
        with self.read() as data:
            return KeyPairInfo.model_validate(self.record(data, "keypair", iid.system_id, "key pair"))

    def list(self) -> list[KeyPairInfo]:
        with self.read() as data:
            return [KeyPairInfo.model_validate(r) for r in data["keypair"].values()]

    def delete(self, iid: IID) -> None:
        with self.write("DeleteKeyPair") as data:
            self.record(data, "keypair", iid.system_id, "key pair")
            self.remove(data, "keypair", iid.system_id)
