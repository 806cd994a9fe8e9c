"""The pytest plugin users get with mcinfra: the documented example passes, alone and under xdist."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

import mcinfra
from mcinfra import SubnetReq
from mcinfra.testing import TestCloud

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "test_orchestrator_example.py"


def test_documented_example_passes(pytester: pytest.Pytester) -> None:
    shutil.copy(EXAMPLE, pytester.path / EXAMPLE.name)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="pytest-xdist is not installed")
def test_documented_example_passes_under_xdist(pytester: pytest.Pytester) -> None:
    shutil.copy(EXAMPLE, pytester.path / EXAMPLE.name)
    # four workers: private clouds mean no test sees another's VPC names
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-n", "4")
    result.assert_outcomes(passed=3)


def test_each_mock_cloud_is_private(mcinfra_clouds) -> None:
    a, b = mcinfra_clouds(), mcinfra_clouds()
    a.vpcs.create("vpc-01", cidr="10.0.0.0/16")
    b.vpcs.create("vpc-01", cidr="10.0.0.0/16")  # same name, other cloud
    assert len(a.vpcs.list_all().mapped) == 1 and len(b.vpcs.list_all().mapped) == 1
    assert a.connection.handlers.vpc.list() != b.connection.handlers.vpc.list()


@pytest.mark.mcinfra(latency=0.001, fail_rate=1.0, seed=3)
def test_marker_configures_the_mock(mock_cloud: TestCloud) -> None:
    with pytest.raises(mcinfra.CloudError, match="InjectedFault"):
        mock_cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
    mock_cloud.assert_no_leftovers()


@pytest.mark.parametrize("error, raised", [("throttle", mcinfra.CloudError), ("not_found", mcinfra.NotFound),
                                           ("in_use", mcinfra.InUse), ("QuotaExceeded", mcinfra.CloudError)])
def test_fail_next_raises_the_chosen_error_then_lets_calls_through(mock_cloud: TestCloud, error, raised) -> None:
    with mock_cloud.fail_next("vpc.create", times=1, error=error):
        with pytest.raises(raised):
            mock_cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")
        mock_cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16")  # the second call goes through
    # after an error that may hide a lost reply (not throttling, not a typed refusal) the core asks
    # the cloud whether the create happened before it gives up (issue 15 point 10)
    asked = ["vpc.list"] if error == "QuotaExceeded" else []
    assert mock_cloud.call_names == ["vpc.create", *asked, "vpc.create"]
    assert [c.ok for c in mock_cloud.calls if c.operation == "vpc.create"] == [False, True]


def test_a_lost_reply_after_the_cloud_did_the_work_is_recovered(mock_cloud: TestCloud) -> None:
    """The cloud made the VPC and the answer was lost: the core finds it by its CSP name and
    maps it, so the create succeeds and nothing is left unmapped (issue 15 point 10)."""
    with mock_cloud.fail_next("vpc.create", error="lost_reply"):
        vpc = mock_cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.0.1.0/24")])
    assert [s.iid.name_id for s in vpc.subnets] == ["sn"]
    assert len(mock_cloud.connection.handlers.vpc.list()) == 1
    mock_cloud.assert_store_matches_cloud()
    assert list(mock_cloud.leftovers()) == ["vpc"]  # mapped, so the checks see it


def test_fail_next_rejects_a_malformed_operation(mock_cloud: TestCloud) -> None:
    with pytest.raises(mcinfra.InvalidRequest), mock_cloud.fail_next("vmstart"):
        pass
    with pytest.raises(mcinfra.InvalidRequest):
        TestCloud.mock(fail_rat=0.1).__enter__()
