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
