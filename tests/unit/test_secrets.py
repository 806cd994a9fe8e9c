"""Credential values never reach errors, call history, logs or reprs."""

from __future__ import annotations

import logging

import pytest

import mcinfra

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"


def test_secret_in_a_driver_error_is_redacted_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.credentials.add("cred", provider="mock", keys={"api_secret": SECRET})
        infra.connections.add("c", provider="mock", credential="cred")
        cloud = infra.connect("c")
        handler = cloud.handlers.vpc

        def leaky(req):
            raise mcinfra.CloudError("mock", "AuthFailure", f"signature {SECRET} was rejected")

        def foreign(req):
            raise RuntimeError(f"socket closed while sending key={SECRET}")

        for fault in (leaky, foreign):
            handler.create = fault
            with pytest.raises(mcinfra.CloudError) as err:
                cloud.vpcs.create("vpc", cidr="10.0.0.0/16")
            assert SECRET not in str(err.value) and "***" in str(err.value)
        records = infra.history(limit=1000)
        assert records and all(SECRET not in (r.error or "") for r in records)
        assert any("***" in (r.error or "") for r in records)
        assert SECRET not in caplog.text
        assert SECRET not in repr(infra.credentials.get("cred")) + repr(infra.credentials.list())
        assert SECRET not in repr(cloud._session.info)  # the driver's SessionInfo holds SecretStr


# ---------------------------------------------------------------- issue 15 point 3: beyond str(exc)
class FakeSDKError(Exception):
    """An SDK exception that quotes the request (as EC2 IncompleteSignature quotes the
    Authorization header) in its text, its attributes and a nested response dict."""

    def __init__(self, secret: str) -> None:
        super().__init__(f"IncompleteSignature: 'Credential={secret}/20260101/us-east-1/ec2' is malformed")
        self.response = {"Error": {"Code": "IncompleteSignature", "Message": f"Authorization: {secret}"}}
        self.headers = [("Authorization", f"AWS4-HMAC-SHA256 Credential={secret}")]


def _walk_chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _every_text(exc: BaseException) -> str:
    """Everything a user could print of an error: message, attributes, args, the whole chain."""
    import traceback

    parts = ["".join(traceback.format_exception(exc))]
    for link in _walk_chain(exc):
        parts += [str(link), repr(link), repr(link.args), repr(vars(link))]
        parts += [repr(getattr(link, a)) for a in dir(link) if not a.startswith("__")
                  and not callable(getattr(link, a))]
    return "\n".join(parts)


@pytest.mark.parametrize("how", ["mapped-from-sdk", "foreign", "attributes", "context-only"])
def test_secret_never_leaves_through_message_attributes_or_chain(how: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("user-app")
    with mcinfra.Infra("sqlite:///:memory:") as infra:
        infra.credentials.add("cred", provider="mock", keys={"aws_access_key_id": "AKIAEXAMPLE0001",
                                                              "aws_secret_access_key": SECRET})
        infra.connections.add("c", provider="mock", credential="cred")
        cloud = infra.connect("c")

        def fault(req):
            sdk = FakeSDKError(SECRET)
            if how == "foreign":
                raise sdk
            if how == "context-only":
                try:
                    raise sdk
                except FakeSDKError:
                    raise mcinfra.CloudError("mock", "AuthFailure", f"rejected {SECRET}")  # noqa: B904
            err = mcinfra.CloudError("mock", "IncompleteSignature", f"Credential={SECRET} is malformed",
                                     retryable=False)
            if how == "attributes":
                err.request = {"headers": {"Authorization": SECRET}}
                err.detail = [SECRET, ("x", SECRET)]
            raise err from sdk

        cloud.handlers.vpc.create = fault
        with pytest.raises(mcinfra.CloudError) as info:
            cloud.vpcs.create("vpc", cidr="10.0.0.0/16")
        err = info.value
        assert SECRET not in err.message and "***" in err.message
        assert SECRET not in _every_text(err)
        # the chain is summarised, not dropped: the printed traceback still names the SDK error
        assert "FakeSDKError" in _every_text(err)
        try:
            raise err
        except mcinfra.CloudError:
            log.exception("create failed")
        assert "create failed" in caplog.text and SECRET not in caplog.text
        assert all(SECRET not in (r.error or "") for r in infra.history(limit=100))
