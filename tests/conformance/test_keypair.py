from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

import mcinfra
from mcinfra.core.keys import generate_ssh_keypair


def test_keypair_lifecycle(cloud: mcinfra.Connection) -> None:
    key = cloud.keypairs.create("key-01")
    assert key.iid.name_id == "key-01"
    assert key.private_key and "PRIVATE KEY" in key.private_key
    loaded = serialization.load_ssh_private_key(key.private_key.encode(), None) if "OPENSSH" in key.private_key \
        else serialization.load_pem_private_key(key.private_key.encode(), None)
    assert loaded is not None
    assert "private_key" not in repr(key)
    got = cloud.keypairs.get("key-01")
    assert got.private_key is None  # shown once, never again
    assert got.iid == key.iid and got.fingerprint == key.fingerprint
    assert [k.iid.name_id for k in cloud.keypairs.list()] == ["key-01"]
    cloud.keypairs.delete("key-01")
    with pytest.raises(mcinfra.NotFound):
        cloud.keypairs.get("key-01")


def test_keypair_import(cloud: mcinfra.Connection) -> None:
    _, public = generate_ssh_keypair("imported")
    key = cloud.keypairs.create("key-imp", public_key=public)
    assert key.private_key is None
    assert key.public_key.split()[:2] == public.split()[:2] or key.fingerprint


def test_keypair_errors(cloud: mcinfra.Connection) -> None:
    cloud.keypairs.create("key-01")
    with pytest.raises(mcinfra.AlreadyExists):
        cloud.keypairs.create("key-01")
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.keypairs.create("key 02")
    with pytest.raises(mcinfra.InvalidRequest):
        cloud.keypairs.create("key-03", public_key="not a key")
    with pytest.raises(mcinfra.NotFound):
        cloud.keypairs.delete("nope")
