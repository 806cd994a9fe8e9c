"""The conformance suite's Unsupported rule (tests/conformance/conftest.py): a scenario a target
lists as unsupported still runs, passes only if it raises mcinfra.Unsupported, and is reported."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

SUITE = '''
import pytest
import mcinfra
from tests.conformance.targets import Target

@pytest.fixture(scope="session")
def target():
    from mcinfra.drivers.mock import reset
    reset("mercury")
    yield Target(provider="mock", region="mercury", zone="mercury-a", image="ubuntu-22.04", spec="t2.micro",
                 unsupported={"test_raises": "no such API (docs)", "test_succeeds": "stale entry",
                              "test_other_error": "no such API"}, reset=lambda: reset("mercury"))

def test_raises(cloud):
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
    raise mcinfra.Unsupported("the driver says no")

def test_succeeds(cloud):
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")

def test_other_error(cloud):
    raise mcinfra.NotFound("not the expected error")

def test_supported(cloud):
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
'''


def test_unsupported_rule(pytester: pytest.Pytester) -> None:
    import pathlib

    import tests.conformance.conftest as suite_conftest

    pytester.makeconftest(pathlib.Path(suite_conftest.__file__).read_text())
    pytester.makepyfile(test_rule=SUITE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    assert "test_rule.py::test_raises: no such API (docs) [raised: the driver says no]" in out
    assert "lists this scenario as unsupported (stale entry), but every call succeeded" in out
    assert "not the expected error" in out
