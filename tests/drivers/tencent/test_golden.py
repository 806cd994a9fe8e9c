"""Golden inputs: Tencent's published example bodies (tests/fakes/tencent/data, see its
ATTRIBUTION.md) through the SDK's response models and the driver's own parsing. These are
bodies the fake did not write."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest

pytest.importorskip("tencentcloud.clb.v20180317", reason="the tencent extra is not installed")

from mcinfra.core.models import SecurityRule, VMStatus, ZoneStatus
from mcinfra.drivers.tencent.image import image_info
from mcinfra.drivers.tencent.keypair import keypair_info
from mcinfra.drivers.tencent.nlb import health_checker, target_detail
from mcinfra.drivers.tencent.region_zone import region_info, zone_info
from mcinfra.drivers.tencent.security_group import rules_of
from mcinfra.drivers.tencent.spec import spec_info
from mcinfra.drivers.tencent.vm import STATUS, vm_info, vm_status
from mcinfra.drivers.tencent.vpc import subnet_info, vpc_info
from tests.fakes import FAKE_RATE
from tests.fakes.tencent import schema

MODELS = {"cvm": "tencentcloud.cvm.v20170312.models", "vpc": "tencentcloud.vpc.v20170312.models",
          "clb": "tencentcloud.clb.v20180317.models"}


def published(service: str, action: str) -> list[tuple[dict[str, Any], Any]]:
    """Each published example of an action: (raw JSON Response, the SDK's response model of it)."""
    out = []
    for example in schema.examples(service)[action]:
        raw = json.loads(example["output"])["Response"]
        model = getattr(importlib.import_module(MODELS[service]), f"{action}Response")()
        model._deserialize(raw)
        out.append((raw, model))
    return out


def test_instances() -> None:
    seen = 0
    for raw, model in published("cvm", "DescribeInstances"):
        for body, inst in zip(raw["InstanceSet"], model.InstanceSet, strict=True):
            info = vm_info(inst, "ap-guangzhou")
            assert info.iid.system_id == body["InstanceId"] and info.iid.name_id == body["InstanceName"]
            assert info.status == STATUS[body["InstanceState"]]
            assert info.private_ip == body["PrivateIpAddresses"][0]
            assert info.public_ip == (body["PublicIpAddresses"] or [None])[0]
            assert info.zone == body["Placement"]["Zone"]
            assert (info.vpc, info.subnet) == (body["VirtualPrivateCloud"]["VpcId"],
                                               body["VirtualPrivateCloud"]["SubnetId"])
            assert info.security_groups == body["SecurityGroupIds"]
            assert info.keypair == ((body["LoginSettings"] or {}).get("KeyIds") or [""])[0]
            assert (info.root_disk_type, info.root_disk_size) == (body["SystemDisk"]["DiskType"],
                                                                  body["SystemDisk"]["DiskSize"])
            assert (info.image, info.spec) == (body["ImageId"], body["InstanceType"])
            assert info.created_at is not None
            seen += 1
    assert seen >= 3


def test_instance_status_example() -> None:
    for raw, model in published("cvm", "DescribeInstancesStatus"):
        for body, st in zip(raw["InstanceStatusSet"], model.InstanceStatusSet, strict=True):
            assert vm_status(st) == STATUS[body["InstanceState"]]


@pytest.mark.parametrize(("state", "status"), [
    ("PENDING", VMStatus.CREATING), ("LAUNCH_FAILED", VMStatus.FAILED), ("RUNNING", VMStatus.RUNNING),
    ("STOPPED", VMStatus.SUSPENDED), ("STARTING", VMStatus.RESUMING), ("STOPPING", VMStatus.SUSPENDING),
    ("REBOOTING", VMStatus.REBOOTING), ("SHUTDOWN", VMStatus.TERMINATING), ("TERMINATING", VMStatus.TERMINATING),
    ("SOMETHING_NEW", VMStatus.FAILED),
])
def test_vm_status_mapping(state: str, status: VMStatus) -> None:
    class Inst:
        InstanceState = state

    assert vm_status(Inst) == status


def test_vpcs_and_subnets() -> None:
    for raw, model in published("vpc", "DescribeVpcs"):
        for body, vpc in zip(raw["VpcSet"], model.VpcSet, strict=True):
            info = vpc_info(vpc, [])
            assert (info.iid.system_id, info.iid.name_id, info.cidr) == (body["VpcId"], body["VpcName"],
                                                                       body["CidrBlock"])
    for raw, model in published("vpc", "DescribeSubnets"):
        for body, sn in zip(raw["SubnetSet"], model.SubnetSet, strict=True):
            info = subnet_info(sn)
            assert (info.iid.system_id, info.cidr, info.zone) == (body["SubnetId"], body["CidrBlock"], body["Zone"])


def test_security_group_policies() -> None:
    (raw, model), = published("vpc", "DescribeSecurityGroupPolicies")
    rules, skipped = rules_of(model.SecurityGroupPolicySet)
    policies = raw["SecurityGroupPolicySet"]
    total = len(policies["Ingress"]) + len(policies["Egress"])
    assert len(rules) + skipped >= total - (total - len(set(rules)) - skipped)  # duplicates collapse
    # every rule read back is a valid mcinfra rule of an ACCEPT policy with a CIDR
    for rule in rules:
        assert isinstance(rule, SecurityRule)
    accept_cidr = [p for d in ("Ingress", "Egress") for p in policies[d]
                   if p["Action"] == "ACCEPT" and (p.get("CidrBlock") or p.get("Ipv6CidrBlock"))]
    assert skipped >= total - len(accept_cidr)


def test_key_pairs() -> None:
    for raw, model in published("cvm", "DescribeKeyPairs"):
        for body, key in zip(raw["KeyPairSet"], model.KeyPairSet, strict=True):
            info = keypair_info(key)
            assert (info.iid.system_id, info.iid.name_id) == (body["KeyId"], body["KeyName"])
            assert info.private_key is None
            assert info.public_key == body.get("PublicKey", "")  # abridged in the example: no fingerprint


def test_images_regions_zones_specs() -> None:
    for raw, model in published("cvm", "DescribeImages"):
        for body, img in zip(raw["ImageSet"], model.ImageSet, strict=True):
            info = image_info(img)
            assert info.iid.system_id == body["ImageId"] and info.os_distribution == body["OsName"]
            assert info.status == ("Available" if body["ImageState"] == "NORMAL" else "Unavailable")
    (raw, model), = published("cvm", "DescribeRegions")
    infos = [region_info(r, []) for r in model.RegionSet]
    assert [i.name for i in infos] == [r["Region"] for r in raw["RegionSet"]]
    for raw, model in published("cvm", "DescribeZones"):
        for body, z in zip(raw["ZoneSet"], model.ZoneSet, strict=True):
            info = zone_info(z)
            assert info.name == body["Zone"]
            assert info.status == (ZoneStatus.AVAILABLE if body["ZoneState"] == "AVAILABLE" else ZoneStatus.UNAVAILABLE)
    (raw, model), = published("cvm", "DescribeInstanceTypeConfigs")
    for body, t in zip(raw["InstanceTypeConfigSet"], model.InstanceTypeConfigSet, strict=True):
        spec = spec_info(t, "ap-guangzhou", [body["Zone"]], None)
        assert (spec.name, spec.vcpus, spec.memory_mib) == (body["InstanceType"], body["CPU"], body["Memory"] * 1024)


def test_listener_health_check() -> None:
    for raw, model in published("clb", "DescribeListeners"):
        for body, lst in zip(raw["Listeners"], model.Listeners, strict=True):
            if not body.get("HealthCheck"):
                continue
            hc = health_checker(lst.HealthCheck, body["Port"])
            assert (hc.interval, hc.timeout, hc.threshold) == (body["HealthCheck"]["IntervalTime"],
                                                               body["HealthCheck"]["TimeOut"],
                                                               body["HealthCheck"]["HealthNum"])


def test_target_health_reads_the_current_field_and_falls_back_to_the_misspelt_one() -> None:
    (raw, model), = published("clb", "DescribeTargetHealth")
    targets = [t for lb in model.LoadBalancers for lst in lb.Listeners for r in lst.Rules or [] for t in r.Targets]
    bodies = [t for lb in raw["LoadBalancers"] for lst in lb["Listeners"] for r in lst["Rules"] or []
              for t in r["Targets"]]
    assert targets and [target_detail(t) for t in targets] == [b["HealthStatusDetail"] for b in bodies]
    # an older answer with only the misspelt member
    old = bodies[0] | {"HealthStatusDetial": "Alive"}
    del old["HealthStatusDetail"]
    model_cls = importlib.import_module(MODELS["clb"]).TargetHealth
    t = model_cls()
    t._deserialize(old)
    with pytest.warns(DeprecationWarning, match="HealthStatusDetial"):  # the SDK's own note on the old name
        assert target_detail(t) == "Alive"


def test_published_bodies_through_the_sdk_client_and_the_handlers() -> None:
    """A replay server answers each action with its first published example: the driver's handlers
    read them over HTTP through the SDK's real client (ids, IPs, status, a one-page list)."""
    from mcinfra.core.handlers import SessionInfo
    from mcinfra.core.models import IID
    from mcinfra.drivers.tencent.driver import TencentDriver
    from tests.fakes.server import LoopbackFake, Request, Response, RouteTable

    service_of = {a: svc for svc in schema.SERVICES for a in schema.actions(svc)}

    def replay(req: Request) -> Response:
        action = next(v for k, v in req.headers.items() if k.lower() == "x-tc-action")
        body = json.loads(schema.examples(service_of[action])[action][0]["output"])
        return Response(200, body, {"Content-Type": "application/json"})

    table = RouteTable()
    table.add("POST", "/", replay)
    with LoopbackFake(table) as server:
        info = SessionInfo(name="replay", provider="tencent", region="ap-guangzhou",
                           credentials={"secret_id": "AKIDreplay", "secret_key": "replay"},
                           options={"endpoint": f"127.0.0.1:{server.port}", "protocol": "http", **FAKE_RATE})
        session = TencentDriver().connect(info)
        raw = json.loads(schema.examples("cvm")["DescribeInstances"][0]["output"])["Response"]["InstanceSet"][0]
        vms = session.vms().list()
        assert [(v.iid.system_id, v.private_ip, v.status) for v in vms] == [
            (raw["InstanceId"], raw["PrivateIpAddresses"][0], STATUS[raw["InstanceState"]])]
        assert session.vms().status(IID(name_id="x", system_id=raw["InstanceId"])) == STATUS[raw["InstanceState"]]
        keys = session.keypairs().list()
        assert keys and keys[0].iid.system_id.startswith("skey-")
        regions = session.region_zones().list()
        assert regions and all(r.zones for r in regions if r.extra["state"] == "AVAILABLE")
        assert session.images().get("img-9qabwvbn").iid.system_id == "img-9qabwvbn"
        assert [s.iid.system_id for s in session.vpcs().get(IID(name_id="v", system_id="vpc-x")).subnets]
        session.close()
