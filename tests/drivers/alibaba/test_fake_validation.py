"""The fake's validator against Alibaba's own published material (not against the fake)."""

from __future__ import annotations

import pytest

from tests.fakes.alibaba import validator

EXAMPLES = [
    (key, i, body) for key, entry in sorted(validator.actions().items()) for i, body in enumerate(entry["examples"])
]


def test_every_action_the_fake_serves_has_published_examples() -> None:
    assert len(EXAMPLES) >= 60
    served = {key for key, _, _ in EXAMPLES}
    for action in ("ecs/DescribeInstances", "vpc/DescribeVSwitches", "nlb/GetListenerHealthStatus", "nlb/GetJobStatus"):
        assert action in served


@pytest.mark.parametrize(("action", "index", "body"), EXAMPLES, ids=[f"{k}#{i}" for k, i, _ in EXAMPLES])
def test_published_examples_pass_the_strict_validator(action: str, index: int, body: dict) -> None:
    validator.check_body(action, body)  # the validator accepts real traffic: it is not over-strict


def test_quirky_spellings_are_the_published_ones() -> None:
    create = validator.actions()["nlb/CreateLoadBalancer"]["examples"][0]
    assert "LoadbalancerId" in create and "LoadBalancerId" not in create
    health = validator.actions()["nlb/GetListenerHealthStatus"]["examples"][0]
    assert "HeathCheckEnabled" in health["ListenerHealthStatus"][0]["ServerGroupInfos"][0]
    with pytest.raises(validator.SchemaViolation):
        validator.check_body("nlb/CreateLoadBalancer", {"RequestId": "r", "LoadBalancerId": "nlb-1"})


@pytest.mark.parametrize(
    "body",
    [
        {"Instances": {"Instance": [{"InstanceID": "i-1"}]}},  # misspelt key
        {"Instances": {"Instance": {"InstanceId": "i-1"}}},  # array unwrapped
        {"TotalCount": "3"},  # string for integer
        {"Instances": [{"InstanceId": "i-1"}]},  # wrapper dropped
    ],
)
def test_strict_validator_rejects_wrong_shapes(body: dict) -> None:
    with pytest.raises(validator.SchemaViolation):
        validator.check_body("ecs/DescribeInstances", body)


def test_error_codes_must_be_documented() -> None:
    validator.check_error("ecs/DeleteSecurityGroup", 403, "DependencyViolation")
    validator.check_error("ecs/StopInstance", 404, "InvalidInstanceId.NotFound")
    validator.check_error("ecs/DescribeInstances", 400, "Throttling")  # product-wide list
    validator.check_error("nlb/CreateLoadBalancer", 400, "QuotaExceeded.Listener")  # a %s pattern
    with pytest.raises(validator.SchemaViolation):
        validator.check_error("ecs/StopInstance", 404, "InstanceNotFound")
    with pytest.raises(validator.SchemaViolation):
        validator.check_error("nlb/GetJobStatus", 500, "SystemBusy")  # documented as 400 only


def test_the_fake_reports_its_own_undocumented_errors_and_bad_bodies() -> None:
    pytest.importorskip("alibabacloud_ecs20140526", reason="the alibaba extra is not installed")
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_ecs20140526.client import Client
    from alibabacloud_tea_openapi import models as open_api

    from tests.fakes.alibaba import AliFake

    with AliFake() as fake:
        ecs = Client(
            open_api.Config(
                access_key_id="AK",
                access_key_secret="SK",
                region_id="cn-hangzhou",
                endpoint=f"127.0.0.1:{fake.port}",
                protocol="http",
            )
        )
        fake.inject("POST", r"/ecs/StopInstance$", status=404, reason="InstanceNotFound", message="not a real code")
        with pytest.raises(Exception, match="InstanceNotFound"):
            ecs.stop_instance(ecs_models.StopInstanceRequest(instance_id="i-1"))
        assert fake.schema_errors == [
            "ecs/StopInstance: error 404 'InstanceNotFound' is not documented by Alibaba Cloud"
        ]
        fake.schema_errors.clear()
        # a handler that answers a misspelt key: the client gets a 500, the test sees why
        route = next(r for r in fake.routes.routes if r.template == "/ecs/DescribeRegions")
        route.handler = lambda req: {"RequestId": "r", "Regions": {"Region": [{"RegionID": "x"}]}}
        with pytest.raises(Exception, match="fakeSchemaError"):
            ecs.describe_regions(ecs_models.DescribeRegionsRequest())
        assert fake.schema_errors and "RegionID: not in the published schema" in fake.schema_errors[0]


def test_sdk_key_check_passes_published_examples_and_catches_drops() -> None:
    pytest.importorskip("alibabacloud_ecs20140526", reason="the alibaba extra is not installed")
    for action, _, body in EXAMPLES:
        validator.check_sdk_keys(action, body)
    with pytest.raises(validator.SchemaViolation, match="drops"):
        validator.check_sdk_keys("ecs/DescribeInstances", {"Instances": {"Instance": [{"InstanceID": "i-1"}]}})
