"""The network answers are schema-checked against the 2024-05-01 spec, standing in for the 2026-03-01
one the SDK speaks (see the fake's ATTRIBUTION.md). A type that changed between the two would pass
that check and be misread by the SDK (it happened: the rule-health answer). So every body the fake
served in a full scenario is also walked against the SDK's own models of the api-version it sends:
each key must be one the model knows, and each value of the type the model declares."""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest

from mcinfra.core.models import HealthChecker, Listener, NLBReq, VMGroup
from mcinfra.drivers.azure.driver import AzureSession
from tests.drivers.azure.conftest import Net
from tests.fakes.azure import AzureFake


def _models() -> dict[str, Any]:
    from azure.mgmt.compute import models as cm
    from azure.mgmt.network import models as nm

    return {
        "VirtualNetworks": nm.VirtualNetwork, "Subnets": nm.Subnet, "NetworkSecurityGroups": nm.NetworkSecurityGroup,
        "NetworkInterfaces": nm.NetworkInterface, "PublicIPAddresses": nm.PublicIPAddress,
        "LoadBalancers": nm.LoadBalancer, "LoadBalancerLoadBalancingRules_Health": nm.LoadBalancerHealthPerRule,
        "VirtualMachines": cm.VirtualMachine, "VirtualMachines_InstanceView": cm.VirtualMachineInstanceView,
        "SshPublicKeys": cm.SshPublicKeyResource, "VirtualMachineSizes": cm.VirtualMachineSize,
    }


def _strip(ann: Any) -> Any:
    """Optional[X] -> X; unions of str and an enum -> str."""
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if any(a is str for a in args):
            return str
        return _strip(args[0]) if len(args) == 1 else ann
    return ann


def _hints(cls: Any) -> dict[str, Any]:
    """The model's annotations; they name other models as ``_models.X`` (imported for type checkers only)."""
    import importlib
    import sys

    module = sys.modules[cls.__module__]
    package = importlib.import_module(cls.__module__.rsplit(".", 1)[0])
    return typing.get_type_hints(cls, globalns={**vars(module), "_models": package})


def _is_model(cls: Any) -> bool:
    return isinstance(cls, type) and hasattr(cls, "_is_model")


def walk(cls: Any, value: Any, path: str, problems: list[str]) -> None:
    ann = _strip(cls)
    origin = typing.get_origin(ann)
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{path}: the SDK expects a list, the fake served {type(value).__name__}")
            return
        for i, item in enumerate(value):
            walk(typing.get_args(ann)[0], item, f"{path}[{i}]", problems)
        return
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(f"{path}: the SDK expects a mapping, the fake served {type(value).__name__}")
        return
    if _is_model(ann):
        if not isinstance(value, dict):
            problems.append(f"{path}: the SDK expects an object ({ann.__name__}), the fake served {value!r:.60}")
            return
        ann()  # the generated model builds its field table on first instantiation
        by_rest = {f._rest_name: attr for attr, f in ann._attr_to_rest_field.items()}
        hints = _hints(ann)
        for key, item in value.items():
            attr = by_rest.get(key)
            if attr is None:
                problems.append(f"{path}.{key}: not a field of the SDK's {ann.__name__}")
                continue
            walk(hints[attr], item, f"{path}.{key}", problems)
        return
    expected = {str: str, int: int, float: (int, float), bool: bool}.get(ann)
    if expected is not None and not isinstance(value, expected):
        problems.append(f"{path}: the SDK expects {ann.__name__}, the fake served {value!r:.60}")


def test_fake_bodies_match_the_sdk_models(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    vms = [cloud.vms().start(net.vm_req(n)).iid for n in ("vm-1", "vm-2")]
    for kind in ("PUBLIC", "INTERNAL"):
        nlb = cloud.nlbs().create(NLBReq(name=f"nlb-{kind.lower()}", vpc=net.vpc.iid.system_id, type=kind,
                                         listener=Listener(port=80),
                                         vm_group=VMGroup(port=80, vms=[v.system_id for v in vms]),
                                         health_checker=HealthChecker(port=80, interval=5, timeout=5, threshold=2)))
        cloud.nlbs().health(nlb.iid)
        cloud.nlbs().remove_vms(nlb.iid, [vms[0].system_id])
    cloud.vms().list()
    cloud.specs().list()
    cloud.keypairs().list()
    cloud.vpcs().list()
    cloud.security_groups().list()
    cloud.vms().suspend(vms[1])
    models = _models()
    problems: list[str] = []
    checked = 0
    for op_id, bodies in fake.bodies.items():
        name = op_id if op_id in models else op_id.rsplit("_", 1)[0]
        model = models.get(name)
        if model is None:
            continue
        for body in bodies:
            items = body["value"] if op_id.endswith(("_List", "_ListByResourceGroup")) else [body]
            for item in items:
                walk(model, item, op_id, problems)
                checked += 1
    assert checked >= 30
    assert not problems, "\n".join(sorted(set(problems))[:20])


def test_the_walk_catches_the_health_drift() -> None:
    from azure.mgmt.network.models import LoadBalancerHealthPerRule

    problems: list[str] = []
    walk(LoadBalancerHealthPerRule, {"loadBalancerBackendAddresses": [
        {"networkInterfaceIPConfigurationId": {"id": "/x"}, "state": "Up", "ipAdress": "1"}]}, "health", problems)
    assert any("expects str" in p for p in problems) and any("ipAdress" in p for p in problems)


@pytest.fixture(autouse=True)
def _polls(fake: AzureFake) -> None:
    fake.state.op_polls = 1
