"""Error mapping, credentials and lazy import: no botocore exception ever reaches a caller."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from mcinfra.core.errors import (
    AlreadyExists,
    CloudError,
    DriverNotInstalled,
    InUse,
    InvalidRequest,
    McInfraError,
    NotFound,
)
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import IID, KeyPairReq, SecurityGroupReq, SubnetReq, VPCReq
from mcinfra.drivers.aws.client import map_client_error
from mcinfra.drivers.aws.driver import AwsDriver
from tests.drivers.aws.conftest import fail_op


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"msg {code}"}}, "Op")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("InvalidVpcID.NotFound", NotFound),
        ("InvalidKeyPair.NotFound", NotFound),
        ("InvalidInstanceID.NotFound", NotFound),
        ("LoadBalancerNotFound", NotFound),
        ("TargetGroupNotFound", NotFound),
        ("InvalidAMIID.Malformed", NotFound),
        ("InvalidKeyPair.Duplicate", AlreadyExists),
        ("InvalidGroup.Duplicate", AlreadyExists),
        ("InvalidPermission.Duplicate", AlreadyExists),
        ("DuplicateLoadBalancerName", AlreadyExists),
        ("DependencyViolation", InUse),
        ("ResourceInUse", InUse),
        ("UnauthorizedOperation", CloudError),
        ("RequestLimitExceeded", CloudError),
    ],
)
def test_error_codes_map_to_typed_errors(code: str, kind: type[Exception]) -> None:
    err = map_client_error(_client_error(code), "thing")
    assert type(err) is kind
    assert code in str(err)
    if isinstance(err, CloudError):
        assert err.code == code and err.provider == "aws"
        assert err.retryable == (code == "RequestLimitExceeded")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _info(**kw: Any) -> SessionInfo:
    fields: dict[str, Any] = {
        "name": "e",
        "provider": "aws",
        "region": "us-east-1",
        "zone": "us-east-1a",
        "credentials": {"aws_access_key_id": "AKIDTEST", "aws_secret_access_key": "s3cr3t-value-xyz"},
    }
    fields.update(kw)
    return SessionInfo(**fields)


def test_unreachable_endpoint_is_a_cloud_error_without_secrets() -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    conn = AwsDriver().connect(_info(options={"endpoint_url": url, "max_attempts": 1, "connect_timeout": 2}))
    with pytest.raises(CloudError) as err:
        conn.vpcs().list()
    assert err.value.code == "EndpointConnectionError"
    assert err.value.__cause__ is not None
    assert "s3cr3t" not in str(err.value) and "s3cr3t" not in repr(conn.info)


def test_every_handler_raises_only_mcinfra_errors(conn: Any, ec2: Any) -> None:
    ghost = IID(name_id="g", system_id="vpc-0123456789abcdef0")
    calls = [
        lambda: conn.vpcs().get(ghost),
        lambda: conn.vpcs().delete(ghost),
        lambda: conn.vpcs().add_subnet(ghost, SubnetReq(name="s", cidr="10.0.0.0/24")),
        lambda: conn.security_groups().get(IID(name_id="g", system_id="sg-0123456789abcdef0")),
        lambda: conn.keypairs().get(IID(name_id="g", system_id="nokey")),
        lambda: conn.keypairs().create(KeyPairReq(name="k", public_key="ssh-rsa notbase64")),
        lambda: conn.vms().get(IID(name_id="g", system_id="i-0123456789abcdef0")),
        lambda: conn.nlbs().get(
            IID(name_id="g", system_id="arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/g/1")
        ),
        lambda: conn.images().get("ami-0123456789abcdef0"),
    ]
    for call in calls:
        with pytest.raises(McInfraError):
            call()
    with fail_op(ec2, "DescribeVpcs", "InternalError", status=500), pytest.raises(CloudError) as err:
        conn.vpcs().list()
    assert err.value.code == "InternalError"


def test_duplicate_key_pair_and_vpc_names(conn: Any) -> None:
    conn.keypairs().create(KeyPairReq(name="dup"))
    with pytest.raises(AlreadyExists):
        conn.keypairs().create(KeyPairReq(name="dup"))
    vpc = conn.vpcs().create(VPCReq(name="v", cidr="10.0.0.0/16"))
    conn.security_groups().create(SecurityGroupReq(name="sg-dup", vpc=vpc.iid.system_id))
    with pytest.raises(AlreadyExists):
        conn.security_groups().create(SecurityGroupReq(name="sg-dup", vpc=vpc.iid.system_id))


def test_key_pair_import_and_private_key_once(conn: Any) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pub = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    imported = conn.keypairs().create(KeyPairReq(name="imp", public_key=pub))
    assert imported.private_key is None and imported.public_key == pub and imported.fingerprint
    made = conn.keypairs().create(KeyPairReq(name="gen"))
    assert made.private_key and "PRIVATE KEY" in made.private_key
    assert made.public_key.startswith("ssh-rsa ")
    got = conn.keypairs().get(made.iid)
    assert got.private_key is None and got.fingerprint == made.fingerprint
    assert "PRIVATE" not in repr(made)
    with pytest.raises(InvalidRequest):
        conn.keypairs().create(KeyPairReq(name="bad", public_key="not a key"))


def test_credentials_half_given_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        AwsDriver().connect(_info(credentials={"aws_access_key_id": "AKIDONLY"}))


def test_no_credentials_uses_boto3_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "envsecret")
    conn = AwsDriver().connect(_info(credentials={}))
    assert conn.client.session.get_credentials().access_key == "AKIDFROMENV"
    tok = AwsDriver().connect(
        _info(credentials={"AWS_ACCESS_KEY_ID": "A", "aws_secret_access_key": "B", "aws_session_token": "T"})
    )
    creds = tok.client.session.get_credentials()
    assert (creds.access_key, creds.token) == ("A", "T")
    # botocore must not retry on its own: the kit's RetryPolicy is the one retry policy
    assert tok.client.config.retries["total_max_attempts"] == 1


def test_driver_import_does_not_load_boto3() -> None:
    code = "import sys, mcinfra.drivers.aws.driver as d; d.AwsDriver().capabilities(); print('boto3' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_sdk_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "boto3" else real(name, *a))
    driver = AwsDriver()
    assert "boto3" in (driver.check_installed() or "")
    with pytest.raises(DriverNotInstalled, match=r"mcinfra\[aws\]"):
        driver.connect(_info())
    assert driver.capabilities().name_rules.reserved_prefixes == ("sg-",)


def test_options_are_typed_and_a_typo_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="max_atempts") as err:
        AwsDriver().connect(_info(options={"max_atempts": 2}))
    assert err.value.field == "options.max_atempts"
    with pytest.raises(InvalidRequest, match="connect_timeout"):
        AwsDriver().connect(_info(options={"connect_timeout": "soon"}))
    # max_attempts (the old name) and retry_attempts both set the kit's retry policy
    assert AwsDriver().connect(_info(options={"max_attempts": 2})).client.retry.attempts == 2
    assert AwsDriver().connect(_info(options={"retry_attempts": 3, "retry_base": 0.5})).client.retry.base == 0.5
