"""The fake is checked against Tencent's published material, not against itself.

- Tencent's own published example bodies pass the validator (it is not over-strict), through the
  SDK's response models too;
- the validator rejects what the API would never send (unknown key, wrong type, undocumented code);
- every error code the fake's source can answer with is in the product's documented list;
- a JSON Schema generated from the same api.json agrees with the walker on the examples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fakes.tencent import schema

EXAMPLES = [
    pytest.param(svc, action, i, id=f"{svc}-{action}-{i}")
    for svc in schema.SERVICES
    for action, items in schema.examples(svc).items()
    for i in range(len(items))
]
#: warnings Tencent's own examples raise (README of the staged data): members they leave out
KNOWN_EXAMPLE_GAPS = ("Encrypt", "KmsKeyId", "DisasterRecoverGroupIds", "HostName", "FunctionTargets", "Targets",
                      "Rules", "HealthStatusDetial")


@pytest.mark.parametrize(("service", "action", "index"), EXAMPLES)
def test_published_examples_pass_the_validator(service: str, action: str, index: int) -> None:
    body = json.loads(schema.examples(service)[action][index]["output"])
    warnings = schema.check_output(service, action, body)
    assert all(w.split(":")[0].rsplit(".", 1)[-1].split("[")[0] in KNOWN_EXAMPLE_GAPS for w in warnings), warnings
    pytest.importorskip("tencentcloud.common")
    schema.check_sdk_model(service, action, body)


def test_every_action_the_fake_serves_has_a_published_example() -> None:
    for svc in schema.SERVICES:
        assert set(schema.actions(svc)) == set(schema.examples(svc)), svc


def _instances_body() -> dict:
    return json.loads(schema.examples("cvm")["DescribeInstances"][0]["output"])


def test_validator_rejects_an_unknown_key() -> None:
    body = _instances_body()
    body["Response"]["InstanceSet"][0]["InstanceStatus"] = "RUNNING"  # a plausible misspelling
    with pytest.raises(schema.SchemaError, match="InstanceStatus"):
        schema.check_output("cvm", "DescribeInstances", body)


def test_validator_rejects_a_wrong_type() -> None:
    body = _instances_body()
    body["Response"]["TotalCount"] = "1"
    with pytest.raises(schema.SchemaError, match="TotalCount"):
        schema.check_output("cvm", "DescribeInstances", body)
    body = _instances_body()
    body["Response"]["InstanceSet"][0]["Placement"] = None  # not nullable
    with pytest.raises(schema.SchemaError, match="Placement"):
        schema.check_output("cvm", "DescribeInstances", body)


def test_validator_rejects_missing_request_id_and_error_envelopes() -> None:
    body = _instances_body()
    del body["Response"]["RequestId"]
    with pytest.raises(schema.SchemaError):
        schema.check_output("cvm", "DescribeInstances", body)
    with pytest.raises(schema.SchemaError):
        schema.check_output("cvm", "DescribeInstances", {"Response": {"Error": {"Code": "X", "Message": ""}}})


def test_sdk_model_check_catches_keys_the_sdk_drops() -> None:
    pytest.importorskip("tencentcloud.common")
    body = _instances_body()
    body["Response"]["InstanceSet"][0]["Bogus"] = 1  # (response envelopes are not checked by the SDK)
    with pytest.raises(schema.SchemaError, match="drops keys"):
        schema.check_sdk_model("cvm", "DescribeInstances", body)


def test_error_codes_must_be_documented() -> None:
    ok = {"Response": {"Error": {"Code": "InvalidInstanceId.NotFound", "Message": "m"}, "RequestId": "r"}}
    schema.check_error("cvm", ok)
    schema.check_error("clb", {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "m"},
                                            "RequestId": "r"}})  # a common code
    with pytest.raises(schema.SchemaError, match="not documented"):
        schema.check_error("vpc", {"Response": {"Error": {"Code": "InvalidVpc.NotFound", "Message": "m"},
                                                "RequestId": "r"}})
    with pytest.raises(schema.SchemaError):
        schema.check_error("vpc", {"Response": {"Error": {"Code": "ResourceNotFound"}, "RequestId": "r"}})


def test_request_checks_answer_documented_codes() -> None:
    with pytest.raises(schema.InputError) as unknown:
        schema.check_input("vpc", "CreateVpc", {"VpcName": "v", "CidrBlock": "10.0.0.0/16", "Cidr": "x"})
    with pytest.raises(schema.InputError) as missing:
        schema.check_input("vpc", "CreateVpc", {"CidrBlock": "10.0.0.0/16"})
    with pytest.raises(schema.InputError) as wrong:
        schema.check_input("vpc", "DescribeVpcs", {"Limit": 5})  # VPC takes Offset/Limit as strings
    codes = schema.documented_codes("vpc")
    assert [e.value.code for e in (unknown, missing, wrong)] == ["UnknownParameter", "MissingParameter",
                                                                "InvalidParameter"]
    assert {e.value.code for e in (unknown, missing, wrong)} <= codes


FAKE_SOURCES = {"cvm": "routes_cvm.py", "vpc": "routes_vpc.py", "clb": "routes_clb.py"}


@pytest.mark.parametrize("service", sorted(FAKE_SOURCES))
def test_every_code_the_fake_source_can_answer_is_documented(service: str) -> None:
    source = (Path(schema.__file__).parent / FAKE_SOURCES[service]).read_text()
    codes = set(re.findall(r'ApiError\(\s*"([A-Za-z.]+)"', source)) | set(re.findall(r'"(UnsupportedOperation\.\w+)"',
                                                                                       source))
    assert codes, "the scan found no codes: the pattern is stale"
    assert codes <= schema.documented_codes(service), codes - schema.documented_codes(service)
    state = (Path(schema.__file__).parent / "state.py").read_text()
    shared = set(re.findall(r'ApiError\(\s*"([A-Za-z.]+)"', state))
    assert shared <= schema.documented_codes(service)


@pytest.mark.parametrize(("service", "action", "index"), EXAMPLES)
def test_generated_json_schema_agrees_with_the_walker(service: str, action: str, index: int) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    body = json.loads(schema.examples(service)[action][index]["output"])
    validator = jsonschema.Draft202012Validator(schema.json_schema(service, action))
    assert not list(validator.iter_errors(body))
    broken = json.loads(json.dumps(body))
    broken["Response"]["NotAMember"] = 1
    assert list(validator.iter_errors(broken))
    with pytest.raises(schema.SchemaError):
        schema.check_output(service, action, broken)
