"""Key pair = ``Microsoft.Compute/sshPublicKeys`` resource holding the public key.

The key pair is generated here (the private key is returned once and never sent to Azure),
or a given public key is imported. Keeping it as an Azure resource (rather than only in the
store) lets ``register``/``list_all``/``delete_csp`` see it like any other kind, and it is what
the portal offers for new VMs. VMs get the public key in ``osProfile``; the key pair's id is
kept in the VM's ``mcinfra-keypair`` tag, since a VM does not reference the resource.
"""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import AlreadyExists, NotFound
from mcinfra.core.handlers import KeyPairHandler
from mcinfra.core.keys import fingerprint, generate_ssh_keypair
from mcinfra.core.models import IID, KeyPairInfo, KeyPairReq
from mcinfra.drivers.azure.client import AzureClient, split_id
from mcinfra.drivers.azure.names import check_name

VM_USER = "cb-user"


def generate_rsa(comment: str) -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, f"{public.decode()} {comment}".strip()


def key_info(key: Any, private: str | None = None) -> KeyPairInfo:
    public = (key.public_key or "").strip()
    return KeyPairInfo(iid=IID(name_id=key.name, system_id=key.id), public_key=public,
                       fingerprint=fingerprint(public) if public else "", private_key=private, vm_user=VM_USER,
                       extra={"location": key.location})


class AzureKeyPairHandler(KeyPairHandler):
    def __init__(self, api: AzureClient) -> None:
        self.api = api

    def find(self, system_id: str) -> Any:
        group, name = split_id(system_id, self.api.group)
        return self.api.call("compute", "ssh_public_keys.get", group, name, idempotent=True)

    def create(self, req: KeyPairReq) -> KeyPairInfo:
        from azure.mgmt.compute.models import SshPublicKeyResource

        check_name(req.name, "keypair")
        self.api.ensure_group()
        try:
            self.find(req.name)
            raise AlreadyExists(f"SSH public key {req.name!r} already exists in {self.api.group!r}")
        except NotFound:
            pass
        private = None
        public = req.public_key
        if public is None:
            make = generate_rsa if self.api.opts.key_type == "rsa" else generate_ssh_keypair
            private, public = make(req.name)
        key = self.api.call("compute", "ssh_public_keys.create", self.api.group, req.name,
                          SshPublicKeyResource(location=self.api.location, public_key=public.strip(),
                                               tags={"mcinfra": "true"}), idempotent=True)
        return key_info(key, private)

    def get(self, iid: IID) -> KeyPairInfo:
        return key_info(self.find(iid.system_id))

    def list(self) -> list[KeyPairInfo]:
        self.api.ensure_group()
        keys = self.api.call("compute", "ssh_public_keys.list_by_resource_group", self.api.group, idempotent=True)
        return [key_info(k) for k in keys]

    def delete(self, iid: IID) -> None:
        key = self.find(iid.system_id)
        group, _ = split_id(key.id, self.api.group)
        self.api.call("compute", "ssh_public_keys.delete", group, key.name, idempotent=True)
