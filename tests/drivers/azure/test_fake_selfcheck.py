"""The Azure fake's validator accepts what Azure really sends: the published x-ms-examples and the
recorded SDK sessions (tests/fakes/azure/data/golden) pass it, so it is not over-strict; and it
rejects a misspelt key, an undocumented status and an undocumented error code, so it is strict."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.fakes.azure import validator as v

GOLDEN = Path(v.DATA) / "golden"

#: example file -> (operation id, api-version whose schema applies). Examples staged from an older
#: api-version (2025-11-01 compute) are checked against the SDK's 2026-04-01 schema.
EXAMPLES = {
    "GetLocations.json": ("Subscriptions_ListLocations", "2022-12-01"),
    "NetworkInterfaceCreate.json": ("NetworkInterfaces_CreateOrUpdate", "2026-03-01"),
    "NetworkSecurityGroupCreate.json": ("NetworkSecurityGroups_CreateOrUpdate", "2026-03-01"),
    "PublicIpAddressCreateDefaults.json": ("PublicIPAddresses_CreateOrUpdate", "2026-03-01"),
    "VirtualNetworkCreate.json": ("VirtualNetworks_CreateOrUpdate", "2026-03-01"),
    "LoadBalancerCreate.json": ("LoadBalancers_CreateOrUpdate", "2026-03-01"),
    "VirtualMachineImage_Get_MaximumSet_Gen.json": ("VirtualMachineImages_Get", "2026-04-01"),
    "VirtualMachineSizes_List_MinimumSet_Gen.json": ("VirtualMachineSizes_List", "2026-04-01"),
    "VirtualMachine_Create_WithSshAuthentication.json": ("VirtualMachines_CreateOrUpdate", "2026-04-01"),
    "VirtualMachine_Deallocate_MinimumSet_Gen.json": ("VirtualMachines_Deallocate", "2026-04-01"),
    "VirtualMachine_Get.json": ("VirtualMachines_Get", "2026-04-01"),
    "VirtualMachine_Get_InstanceView.json": ("VirtualMachines_InstanceView", "2026-04-01"),
    "VirtualMachine_PowerOff_MaximumSet_Gen.json": ("VirtualMachines_PowerOff", "2026-04-01"),
    "VirtualMachine_Restart_MaximumSet_Gen.json": ("VirtualMachines_Restart", "2026-04-01"),
}
#: the LB example is api 2025-07-01; the staged network spec (2024-05-01) predates these keys
NEWER_THAN_SPEC = {"LoadBalancerCreate.json": {"scope", "enableConnectionTracking"}}
#: recordings were made with network 2023-06-01 / compute 2023-09-01; checked against the staged specs
RECORDED_API = {"2024-05-01": "2026-03-01", "2026-04-01": "2026-04-01"}


def _body(resp: dict) -> object:
    return resp.get("body")


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_published_examples_pass(name: str) -> None:
    op_id, api = EXAMPLES[name]
    example = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    for status, resp in example["responses"].items():
        try:
            v.check_response(op_id, api, int(status), _body(resp))
        except v.SchemaViolation as exc:
            newer = NEWER_THAN_SPEC.get(name, set())
            assert newer and any(k in str(exc) for k in newer), exc
            # the newer keys are the only difference: strip them and it passes
            v.check_response(op_id, api, int(status), _strip(_body(resp), newer))


def _strip(body: object, keys: set[str]) -> object:
    if isinstance(body, dict):
        return {k: _strip(x, keys) for k, x in body.items() if k not in keys}
    if isinstance(body, list):
        return [_strip(x, keys) for x in body]
    return body


def _find(method: str, path: str) -> str | None:
    for key, op in v._spec()["operations"].items():
        rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op["path"])) + "$"
        if op["method"] == method and re.match(rx, path, re.IGNORECASE):
            return key
    return None


@pytest.mark.parametrize("name", ["recording_compute_vm.json", "recording_network_lb.json"])
def test_recorded_sessions_pass(name: str) -> None:
    checked = polls = 0
    for entry in json.loads((GOLDEN / name).read_text(encoding="utf-8")):
        path = entry["uri"].split("?", 1)[0]
        if "/operations/" in path or "/operationResults/" in path:
            if entry["status"] == 200 and entry["body"]:
                v.check_operation_status(entry["body"])
                polls += 1
            continue
        key = _find(entry["method"], path)
        if key is None:
            continue  # PATCH tags and list-extensions: operations the fake does not serve
        version, op_id = key.split(" ")
        v.check_response(op_id, RECORDED_API.get(version, version), entry["status"], entry["body"])
        checked += 1
    assert checked >= 6 and polls >= 5


def test_validator_rejects_unknown_key_status_and_code() -> None:
    body = json.loads((GOLDEN / "VirtualMachine_Get.json").read_text())["responses"]["200"]["body"]
    v.check_response("VirtualMachines_Get", "2026-04-01", 200, body)
    typo = json.loads(json.dumps(body))
    typo["properties"]["hardwareProfile"]["vmSise"] = "Standard_B1s"
    with pytest.raises(v.SchemaViolation, match="vmSise"):
        v.check_response("VirtualMachines_Get", "2026-04-01", 200, typo)
    with pytest.raises(v.SchemaViolation, match="documents"):
        v.check_response("VirtualMachines_Get", "2026-04-01", 201, body)
    with pytest.raises(v.SchemaViolation, match="api-version"):
        v.check_response("VirtualMachines_Get", "2019-01-01", 200, body)
    v.check_error(404, {"error": {"code": "ResourceNotFound", "message": "gone"}})
    with pytest.raises(v.SchemaViolation, match="not one Azure documents"):
        v.check_error(404, {"error": {"code": "NoSuchThing", "message": "gone"}})
    with pytest.raises(v.SchemaViolation, match="comes with"):
        v.check_error(500, {"error": {"code": "ResourceNotFound", "message": "gone"}})
    with pytest.raises(v.SchemaViolation):
        v.check_operation_status({"status": "Failed"})  # a failure must say why


def test_health_answer_follows_the_sdk_api_version() -> None:
    # 2026-03-01 (what the SDK sends) made networkInterfaceIPConfigurationId a string; the 2024-05-01
    # stand-in has an object there. The fake first served the old shape and the SDK read it as text.
    ok = {"up": 1, "down": 0, "loadBalancerBackendAddresses": [
        {"ipAddress": "10.0.0.4", "networkInterfaceIPConfigurationId": "/subscriptions/s/x/ipConfigurations/c",
         "state": "Up"}]}
    v.check_response("LoadBalancerLoadBalancingRules_Health", "2026-03-01", 200, ok)
    old = json.loads(json.dumps(ok))
    old["loadBalancerBackendAddresses"][0]["networkInterfaceIPConfigurationId"] = {"id": "/x"}
    with pytest.raises(v.SchemaViolation):
        v.check_response("LoadBalancerLoadBalancingRules_Health", "2026-03-01", 200, old)


LRO_HEADERS = {"Azure-AsyncOperation", "Location", "Retry-After"}


def _kind(method: str, path: str) -> str | None:
    """'PUT virtualNetworks', 'POST deallocate', 'DELETE loadBalancers', 'GET operationResults'..."""
    parts = path.split("?")[0].strip("/").split("/")
    if "operationResults" in parts:
        return "GET operationResults"
    if "operations" in parts:
        return None  # polls: bodies checked above
    if method == "POST":
        return f"POST {parts[-1]}"
    if method in ("PUT", "DELETE") and len(parts) >= 8:
        return f"{method} {parts[-2]}"
    return None


def test_fake_lro_answers_look_like_the_recorded_ones() -> None:
    """Status codes and LRO header kinds of the fake's answers, per operation kind, match what Azure
    answered in the recorded sessions (a synchronous 201 without headers, as the recorded NIC PUT,
    is ARM-legal too, so the fake's headers must be a superset-free subset of the LRO headers)."""
    pytest.importorskip("azure.mgmt.compute")
    from tests.drivers.azure.conftest import Net, connect
    from tests.fakes.azure import AzureFake

    recorded: dict[str, set[tuple[int, frozenset[str]]]] = {}
    for name in ("recording_compute_vm.json", "recording_network_lb.json"):
        for e in json.loads((GOLDEN / name).read_text(encoding="utf-8")):
            kind = _kind(e["method"], e["uri"])
            if kind:
                recorded.setdefault(kind, set()).add((e["status"], frozenset(e["headers"]) & LRO_HEADERS))
    with AzureFake(op_polls=1) as fake:
        cloud = connect(fake)
        net = Net(cloud)
        vm = cloud.vms().start(net.vm_req())
        cloud.vms().suspend(vm.iid)
        cloud.vms().resume(vm.iid)
        cloud.vms().reboot(vm.iid)
        cloud.vms().terminate(vm.iid)
        compared = set()
        for method, path, status, headers, _ in fake.answers:
            kind = _kind(method, path)
            if kind not in recorded:
                continue
            seen = {(s, h) for s, h in recorded[kind]}
            mine = (status, frozenset(headers) & LRO_HEADERS)
            # Retry-After is optional in ARM (the recordings show it on some answers and not others)
            assert any(mine[0] == s and mine[1] - {"Retry-After"} == h - {"Retry-After"} for s, h in seen) or \
                (kind == "PUT networkInterfaces" and mine[0] == 201), (kind, mine, seen)
            compared.add(kind)
        cloud.close()
    assert {"PUT virtualNetworks", "PUT virtualMachines", "POST deallocate", "POST start", "POST restart",
            "DELETE virtualMachines"} <= compared


def test_every_error_the_fake_can_raise_is_documented() -> None:
    """Besides the check of every answer at run time: the errors in the fake's source, including the
    ones no test happens to provoke, carry a documented code with its documented status."""
    import re

    here = Path(v.__file__).parent
    codes = v.error_codes()
    seen = 0
    for name in ("routes_compute.py", "routes_network.py", "state.py"):
        src = (here / name).read_text(encoding="utf-8")
        for m in re.finditer(r'arm_error\((\d+), "(\w+)"', src):
            assert int(m.group(1)) in codes.get(m.group(2), []), (name, m.group(0))
            seen += 1
        for m in re.finditer(r'bad\((?:[^()]|\([^()]*\))*?,\s*"(\w+)"\)', src, re.S):
            assert 400 in codes.get(m.group(1), []), (name, m.group(1))
            seen += 1
    assert seen >= 20
    assert 400 in codes["InvalidParameter"]  # bad()'s default code
