"""Error mapping, name rules, options, credentials and install checks of the Tencent driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mcinfra
from mcinfra.core.errors import AlreadyExists, CloudError, DriverNotInstalled, InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import KeyPairReq, VPCReq
from mcinfra.core.naming import csp_name
from mcinfra.drivers.tencent.client import ERRORS
from mcinfra.drivers.tencent.driver import NAME_RULES, TencentDriver, TencentSession
from tests.drivers.tencent.conftest import connect
from tests.fakes.tencent import SECRET_ID, TencentFake, schema

DOCUMENTED = schema.documented_codes("cvm") | schema.documented_codes("vpc") | schema.documented_codes("clb")


@pytest.mark.parametrize(("code", "kind", "throttled", "retryable"), [
    ("ResourceNotFound", NotFound, False, False),
    ("InvalidInstanceId.NotFound", NotFound, False, False),
    ("InvalidKeyPairId.NotFound", NotFound, False, False),
    ("InvalidParameter.LBIdNotFound", NotFound, False, False),
    ("InvalidParameter.ListenerIdNotFound", NotFound, False, False),
    ("InvalidParameterValue.VpcIdNotExist", NotFound, False, False),
    ("InvalidParameterValue.SubnetNotExist", NotFound, False, False),
    ("InvalidSecurityGroupId.NotFound", NotFound, False, False),
    ("InvalidKeyPairName.Duplicate", AlreadyExists, False, False),
    ("InvalidPublicKey.Duplicate", AlreadyExists, False, False),
    ("UnsupportedOperation.DuplicatePolicy", AlreadyExists, False, False),
    ("ResourceInUse", InUse, False, False),
    ("RequestLimitExceeded", CloudError, True, True),
    ("FailedOperation.ResourceInOperating", CloudError, True, True),
    ("OperationDenied.InstanceOperationInProgress", CloudError, True, True),
    ("InternalError", CloudError, False, True),
    ("ResourceUnavailable", CloudError, False, True),
    ("AuthFailure.SignatureFailure", CloudError, False, False),
    ("UnsupportedOperation.InstanceStateStopped", CloudError, False, False),
    ("InvalidParameterValue.Range", CloudError, False, False),
])
def test_error_table(code: str, kind: type, throttled: bool, retryable: bool) -> None:
    assert code in DOCUMENTED  # the table speaks the API's documented vocabulary
    err = ERRORS.error(code, "m")
    assert type(err) is kind
    if isinstance(err, CloudError):
        assert (err.throttled, err.retryable, err.code, err.provider) == (throttled, retryable, code, "tencent")


def test_error_table_names_only_documented_codes() -> None:
    named = ERRORS.not_found | ERRORS.already_exists | ERRORS.in_use | ERRORS.throttled | ERRORS.transient
    sdk_own = {"ServerNetworkError", "ClientNetworkError"}  # raised by the SDK itself, not the API
    assert named - DOCUMENTED - sdk_own == set()


# ---------------------------------------------------------------- names
@pytest.mark.parametrize(("kind", "limit"), [("vpc", 60), ("security_group", 60), ("vm", 60), ("nlb", 60),
                                             ("keypair", 25)])
def test_csp_names_fit_tencent_rules(kind: str, limit: int) -> None:
    for user in ("a", "web-server-01", "x" * 100, "Mixed-Case_name", "9lives"):
        name = csp_name(user, kind, NAME_RULES)
        assert len(name) <= limit and "-" not in name
        if kind == "keypair":  # letters, digits and '_' only
            assert name.replace("_", "").isalnum()


def test_the_fake_enforces_the_same_name_rules(fake: TencentFake) -> None:
    fake.reset()
    s = connect(fake)
    with pytest.raises(CloudError, match="InvalidKeyPairNameIncludeIllegalChar"):
        s.keypairs().create(KeyPairReq(name="key-01"))
    with pytest.raises(CloudError, match="InvalidKeyPairNameTooLong"):
        s.keypairs().create(KeyPairReq(name="k" * 26))
    s.keypairs().create(KeyPairReq(name=csp_name("key-01-with-a-long-name", "keypair", NAME_RULES)))
    with pytest.raises(CloudError, match="LimitExceeded"):
        s.vpcs().create(VPCReq(name="v" * 61, cidr="10.0.0.0/16"))
    s.vpcs().create(VPCReq(name=csp_name("v" * 80, "vpc", NAME_RULES), cidr="10.0.0.0/16"))
    with pytest.raises(AlreadyExists):
        s.keypairs().create(KeyPairReq(name="k_1"))
        s.keypairs().create(KeyPairReq(name="k_1"))


# ---------------------------------------------------------------- options and credentials
def _info(**kw: object) -> SessionInfo:
    base: dict[str, object] = {"name": "t", "provider": "tencent", "region": "ap-guangzhou",
                               "credentials": {"secret_id": "AKIDx", "secret_key": "very-secret-value"}}
    return SessionInfo(**{**base, **kw})


def test_options_are_typed_and_typos_rejected() -> None:
    with pytest.raises(InvalidRequest, match="poll_intervall"):
        TencentDriver().connect(_info(options={"poll_intervall": 1}))
    with pytest.raises(InvalidRequest, match="protocol"):
        TencentDriver().connect(_info(options={"protocol": "ftp"}))
    with pytest.raises(InvalidRequest, match="region"):
        TencentDriver().connect(_info(region=None))


def test_credentials_need_both_keys_and_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY", raising=False)
    monkeypatch.setenv("HOME", "/nonexistent-home")
    with pytest.raises(InvalidRequest, match="secret_key"):
        TencentDriver().connect(_info(credentials={"secret_id": "AKIDx"}))
    with pytest.raises(InvalidRequest, match="TENCENTCLOUD_SECRET_ID"):
        TencentDriver().connect(_info(credentials={}))
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", "AKIDenv")
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", "env-secret")
    assert isinstance(TencentDriver().connect(_info(credentials={})), TencentSession)


def test_a_wrong_secret_is_an_auth_failure_without_the_secret(fake: TencentFake) -> None:
    info = _info(options={"endpoint": f"127.0.0.1:{fake.port}", "protocol": "http"},
                 credentials={"secret_id": SECRET_ID, "secret_key": "very-secret-value"})
    with pytest.raises(CloudError) as err:
        TencentDriver().connect(info).vpcs().list()
    assert err.value.code == "AuthFailure.SignatureFailure"
    text = f"{err.value!r} {err.value} {err.value.__cause__!r} {err.value.__cause__}"
    assert "very-secret-value" not in text
    assert "very-secret-value" not in repr(info)


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TencentDriver, "check_installed", lambda self: "tencentcloud.clb.v20180317 is not installed")
    with pytest.raises(DriverNotInstalled, match=r"mcinfra\[tencent\]"):
        TencentDriver().connect(_info())


def test_provider_listed_and_no_sdk_loaded_by_import() -> None:
    code = ("import sys, mcinfra; i = mcinfra.Infra('sqlite:///:memory:');"
            " p = {x.name: x for x in i.providers()}['tencent'];"
            " print(p.installed, 'no driver' in p.status, any(m.startswith('tencentcloud') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).parents[3])
    assert out.stdout.split() == ["True", "False", "False"]


def test_through_the_public_api(fake: TencentFake) -> None:
    """One short run through mcinfra.Infra: names cooked with '_' reach the fake."""
    fake.reset()
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.credentials.add("c", provider="tencent", keys={"secret_id": SECRET_ID,
                                                            "secret_key": "mcinfra-fake-secret-key-0000000000"})
        infra.regions.add("r", provider="tencent", region="ap-guangzhou", zone="ap-guangzhou-3")
        infra.connections.add("t", credential="c", region="r",
                              options={"endpoint": f"127.0.0.1:{fake.port}", "protocol": "http"})
        cloud = infra.connect("t")
        key = cloud.keypairs.create("key-01")
        assert key.iid.name_id == "key-01"
        sent = fake.calls("CreateKeyPair")[0].body["KeyName"]
        assert sent.startswith("key_01_") and len(sent) <= 25
        cloud.security_groups.create("sg-01", vpc=cloud.vpcs.create("vpc-01", cidr="10.9.0.0/16").iid.name_id)
        assert cloud.destroy_all(pause=0.01).all_destroyed


def test_an_unreachable_endpoint_is_a_retryable_cloud_error() -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    info = _info(options={"endpoint": f"127.0.0.1:{port}", "protocol": "http", "retry_attempts": 2,
                          "retry_base": 0.001, "request_timeout": 2})
    with pytest.raises(CloudError) as err:
        TencentDriver().connect(info).vpcs().list()
    assert err.value.code == "ClientNetworkError" and err.value.retryable
    assert "very-secret-value" not in f"{err.value} {err.value.__cause__}"


def test_a_lost_reply_on_create_and_delete_is_settled_by_asking_the_cloud(fake: TencentFake) -> None:
    """The core's lost-reply handling (docs/reliability.md) on this driver: the fake carries out
    CreateVpc / DeleteSecurityGroup and answers InternalError; the name is found by list_iids."""
    fake.reset()
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.credentials.add("c", provider="tencent", keys={"secret_id": SECRET_ID,
                                                            "secret_key": "mcinfra-fake-secret-key-0000000000"})
        infra.regions.add("r", provider="tencent", region="ap-guangzhou", zone="ap-guangzhou-3")
        infra.connections.add("t", credential="c", region="r",
                              options={"endpoint": f"127.0.0.1:{fake.port}", "protocol": "http"})
        cloud = infra.connect("t")
        fake.lose_reply("CreateVpc")
        vpc = cloud.vpcs.create("vpc-01", cidr="10.9.0.0/16")
        assert cloud.vpcs.get("vpc-01").iid == vpc.iid and len(fake.calls("CreateVpc")) == 1
        cloud.security_groups.create("sg-01", vpc="vpc-01")
        fake.lose_reply("DeleteSecurityGroup", times=5)  # the idempotent retries all lose theirs too
        cloud.security_groups.delete("sg-01")
        assert cloud.security_groups.list_all().mapped == [] and not fake.state.regions["ap-guangzhou"].security_groups
        assert cloud.destroy_all(pause=0.01).all_destroyed
