"""CVM service actions: instances (asynchronous states), key pairs, regions/zones, images, types."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.fakes.tencent import catalog
from tests.fakes.tencent.state import ApiError, Call, TencentState, Transition, filtered, now_iso, page

Actions = dict[tuple[str, str], Any]
KEY_NAME = re.compile(r"^[A-Za-z0-9_]+$")
KEY_NAME_MAX = 25
INSTANCE_NAME_MAX = 128
#: states that refuse a new operation, with the documented code naming them
BUSY = {
    "PENDING": "UnsupportedOperation.InstanceStatePending",
    "STARTING": "UnsupportedOperation.InstanceStateStarting",
    "STOPPING": "UnsupportedOperation.InstanceStateStopping",
    "REBOOTING": "UnsupportedOperation.InstanceStateRebooting",
    "TERMINATING": "UnsupportedOperation.InstanceStateTerminating",
    "LAUNCH_FAILED": "UnsupportedOperation.InstanceStateLaunchFailed",
}


def _keypair_material() -> tuple[str, str]:
    """A fresh key pair (OpenSSH public key, PEM private key). Tencent makes RSA keys; ed25519 is
    used here only because it is instant to generate."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return public, private


def _check_key_name(name: str) -> None:
    if not name:
        raise ApiError("InvalidKeyPairNameEmpty", "KeyName is empty")
    if len(name) > KEY_NAME_MAX:
        raise ApiError("InvalidKeyPairNameTooLong", f"KeyName is longer than {KEY_NAME_MAX} characters")
    if not KEY_NAME.match(name):
        raise ApiError("InvalidKeyPairNameIncludeIllegalChar", "KeyName may hold letters, digits and '_' only")


def add_cvm_actions(actions: Actions, state: TencentState) -> None:
    def act(name: str) -> Any:
        def deco(fn: Any) -> Any:
            actions[("cvm", name)] = fn
            return fn

        return deco

    # ------------------------------------------------------------ catalog
    @act("DescribeRegions")
    def describe_regions(call: Call) -> dict[str, Any]:
        rows = [{"Region": r, "RegionName": n, "RegionState": s} for r, (n, s) in catalog.REGIONS.items()]
        return {"TotalCount": len(rows), "RegionSet": rows}

    @act("DescribeZones")
    def describe_zones(call: Call) -> dict[str, Any]:
        rows = catalog.zones(call.region.name)
        return {"TotalCount": len(rows), "ZoneSet": rows}

    @act("DescribeImages")
    def describe_images(call: Call) -> dict[str, Any]:
        items = catalog.images()
        if call.get("ImageIds"):
            items = [i for i in items if i["ImageId"] in call.get("ImageIds")]
        items = filtered(call, items, {"image-id": lambda i: i["ImageId"], "image-type": lambda i: i["ImageType"],
                                       "image-name": lambda i: i["ImageName"], "platform": lambda i: i["Platform"]})
        total, items = page(call, items, state.page_size)
        return {"ImageSet": items, "TotalCount": total}

    @act("DescribeInstanceTypeConfigs")
    def describe_types(call: Call) -> dict[str, Any]:
        items = filtered(call, catalog.instance_type_configs(call.region.name),
                         {"zone": lambda t: t["Zone"], "instance-family": lambda t: t["InstanceFamily"],
                          "instance-type": lambda t: t["InstanceType"]})
        return {"InstanceTypeConfigSet": items}

    @act("DescribeZoneInstanceConfigInfos")
    def describe_quota(call: Call) -> dict[str, Any]:
        items = filtered(call, catalog.instance_type_quota(call.region.name),
                         {"zone": lambda t: t["Zone"], "instance-family": lambda t: t["InstanceFamily"],
                          "instance-type": lambda t: t["InstanceType"],
                          "instance-charge-type": lambda t: t["InstanceChargeType"]})
        return {"InstanceTypeQuotaSet": items}

    # ------------------------------------------------------------ key pairs
    @act("CreateKeyPair")
    def create_keypair(call: Call) -> dict[str, Any]:
        name = str(call.get("KeyName", ""))
        _check_key_name(name)
        if any(k["KeyName"] == name for k in call.region.keypairs.values()):
            raise ApiError("InvalidKeyPairName.Duplicate", f"The key pair name `{name}` exists")
        public, private = _keypair_material()
        key = _new_key(call, name, public)
        return {"KeyPair": {**key, "PrivateKey": private}}

    @act("ImportKeyPair")
    def import_keypair(call: Call) -> dict[str, Any]:
        name = str(call.get("KeyName", ""))
        _check_key_name(name)
        public = str(call.require("PublicKey")).strip()
        parts = public.split()
        if len(parts) < 2 or parts[0] not in ("ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256"):
            raise ApiError("InvalidPublicKey.Malformed", "PublicKey is not an OpenSSH public key")
        if any(k["KeyName"] == name for k in call.region.keypairs.values()):
            raise ApiError("InvalidKeyPairName.Duplicate", f"The key pair name `{name}` exists")
        if any(k["PublicKey"].split()[:2] == parts[:2] for k in call.region.keypairs.values()):
            raise ApiError("InvalidPublicKey.Duplicate", "This public key was imported already")
        return {"KeyId": _new_key(call, name, " ".join(parts[:2]))["KeyId"]}

    def _new_key(call: Call, name: str, public: str) -> dict[str, Any]:
        key = {
            "KeyId": state.new_id("skey"),
            "KeyName": name,
            "ProjectId": int(call.get("ProjectId") or 0),
            "Description": "",
            "PublicKey": public,
            "AssociatedInstanceIds": [],
            "CreatedTime": now_iso(),
            "Tags": [],
        }
        call.region.keypairs[key["KeyId"]] = key
        return key

    @act("DescribeKeyPairs")
    def describe_keypairs(call: Call) -> dict[str, Any]:
        ids = call.get("KeyIds") or []
        missing = [i for i in ids if i not in call.region.keypairs]
        if missing:
            raise ApiError("InvalidKeyPairId.NotFound", f"The key pair `{missing[0]}` does not exist")
        items = [call.region.keypairs[i] for i in ids] if ids else list(call.region.keypairs.values())
        items = filtered(call, items, {"key-id": lambda k: k["KeyId"], "key-name": lambda k: k["KeyName"],
                                       "project-id": lambda k: k["ProjectId"]})
        total, items = page(call, items, state.page_size)
        return {"TotalCount": total, "KeyPairSet": items}

    @act("DeleteKeyPairs")
    def delete_keypairs(call: Call) -> dict[str, Any]:
        ids = call.require("KeyIds")
        missing = [i for i in ids if i not in call.region.keypairs]
        if missing:
            raise ApiError("InvalidKeyPairId.NotFound", f"The key pair `{missing[0]}` does not exist")
        for key_id in ids:
            # as documented: a key bound to an instance is silently kept; callers check what is left
            if not call.region.keypairs[key_id]["AssociatedInstanceIds"]:
                del call.region.keypairs[key_id]
        return {}

    # ------------------------------------------------------------ instances
    @act("RunInstances")
    def run_instances(call: Call) -> dict[str, Any]:
        region = call.region
        token = call.get("ClientToken")
        if token and token in state.client_tokens:  # the same request again: the first answer
            return {"InstanceIdSet": list(state.client_tokens[token])}
        zone = (call.get("Placement") or {}).get("Zone")
        if zone not in catalog.zone_names(region.name):
            raise ApiError("InvalidZone.MismatchRegion", f"The zone `{zone}` is not in region `{region.name}`")
        itype = call.require("InstanceType")
        if itype not in {t[0] for t in catalog.INSTANCE_TYPES}:
            raise ApiError("InvalidParameterValue.InstanceTypeNotFound", f"The instance type `{itype}` does not exist")
        if zone.endswith(f"-{catalog.UNAVAILABLE_ZONE_NUMBER}"):
            raise ApiError("ResourceInsufficient.ZoneSoldOutForSpecifiedInstance", f"`{itype}` is sold out in {zone}")
        image_id = call.require("ImageId")
        if image_id not in {i[0] for i in catalog.IMAGES}:
            raise ApiError("InvalidImageId.NotFound", f"The image `{image_id}` does not exist")
        vpc_req = call.get("VirtualPrivateCloud") or {}
        vpc_id, subnet_id = vpc_req.get("VpcId"), vpc_req.get("SubnetId")
        if vpc_id not in region.vpcs:
            raise ApiError("InvalidParameterValue.VpcIdNotExist", f"The VPC `{vpc_id}` does not exist")
        subnet = region.subnets.get(subnet_id or "")
        if subnet is None:
            raise ApiError("InvalidParameterValue.SubnetNotExist", f"The subnet `{subnet_id}` does not exist")
        if subnet["VpcId"] != vpc_id:
            raise ApiError("InvalidParameterValue.VpcIdSubnetIdNotMatch", "The subnet is not in the VPC")
        if subnet["Zone"] != zone:
            raise ApiError("InvalidParameterValue.SubnetIdZoneIdNotMatch", "The subnet is not in the zone")
        sg_ids = call.get("SecurityGroupIds") or []
        for sg_id in sg_ids:
            if sg_id not in region.security_groups:
                raise ApiError("InvalidSecurityGroupId.NotFound", f"The security group `{sg_id}` does not exist")
        login = call.get("LoginSettings") or {}
        for key_id in login.get("KeyIds") or []:
            if key_id not in region.keypairs:
                raise ApiError("InvalidKeyPairId.NotFound", f"The key pair `{key_id}` does not exist")
        disk = call.get("SystemDisk") or {}
        disk_type, disk_size = disk.get("DiskType", "CLOUD_BSSD"), int(disk.get("DiskSize", 50))
        if disk_type not in catalog.DISK_TYPES:
            raise ApiError("InvalidParameterValue", f"DiskType `{disk_type}` is not valid")
        if not 20 <= disk_size <= 16000:
            raise ApiError("InvalidParameterValue.Range", f"DiskSize {disk_size} is not in 20..16000")
        name = str(call.get("InstanceName") or "")
        if len(name) > INSTANCE_NAME_MAX:
            raise ApiError("InvalidParameterValue.LimitExceeded", "InstanceName is too long")
        count = int(call.get("InstanceCount") or 1)
        internet = call.get("InternetAccessible") or {}
        public = bool(internet.get("PublicIpAssigned")) and int(internet.get("InternetMaxBandwidthOut") or 0) > 0
        ids = []
        for _ in range(count):
            inst = _new_instance(call, zone, itype, image_id, subnet, sg_ids, login, disk_type, disk_size, name,
                                 internet, public)
            ids.append(inst["InstanceId"])
        if token:
            state.client_tokens[token] = ids
        return {"InstanceIdSet": ids}

    def _new_instance(call: Call, zone: str, itype: str, image_id: str, subnet: dict[str, Any], sg_ids: list[str],
                      login: dict[str, Any], disk_type: str, disk_size: int, name: str, internet: dict[str, Any],
                      public: bool) -> dict[str, Any]:
        region = call.region
        _, _family, cpu, mem, _gpu = next(t for t in catalog.INSTANCE_TYPES if t[0] == itype)
        os_name = next(i[2] for i in catalog.IMAGES if i[0] == image_id)
        instance_id = state.new_id("ins")
        key_ids = list(login.get("KeyIds") or [])
        inst: dict[str, Any] = {
            "Placement": {"Zone": zone, "ProjectId": 0},
            "InstanceId": instance_id,
            "InstanceType": itype,
            "CPU": cpu,
            "Memory": mem,
            "RestrictState": "NORMAL",
            "InstanceName": name or "未命名",
            "InstanceChargeType": "POSTPAID_BY_HOUR",
            "SystemDisk": {"DiskType": disk_type, "DiskId": state.new_id("disk"), "DiskSize": disk_size,
                           "Encrypt": False, "KmsKeyId": ""},
            "DataDisks": [],
            "PrivateIpAddresses": [_private_ip(call, subnet)],
            "PublicIpAddresses": [state.public_ip()] if public else None,
            "InternetAccessible": {"InternetChargeType": internet.get("InternetChargeType", "TRAFFIC_POSTPAID_BY_HOUR"),
                                   "InternetMaxBandwidthOut": int(internet.get("InternetMaxBandwidthOut") or 0),
                                   "PublicIpAssigned": public},
            "VirtualPrivateCloud": {"VpcId": subnet["VpcId"], "SubnetId": subnet["SubnetId"], "AsVpcGateway": False},
            "ImageId": image_id,
            "RenewFlag": "",
            "CreatedTime": now_iso(),
            "ExpiredTime": "",
            "OsName": os_name,
            "SecurityGroupIds": list(sg_ids),
            "LoginSettings": {"KeyIds": key_ids} if key_ids else {},
            "InstanceState": "PENDING",
            "Tags": [],
            "StopChargingMode": "NOT_APPLICABLE",
            "Uuid": f"{instance_id[4:]}-0000-4000-8000-000000000000",
            "LatestOperation": "RunInstances",
            "LatestOperationState": "OPERATING",
            "LatestOperationRequestId": call.request_id,
            "IPv6Addresses": None,
            "CamRoleName": None,
            "HpcClusterId": "",
            "RdmaIpAddresses": None,
            "DedicatedClusterId": "",
            "IsolatedSource": "NOTISOLATED",
            "DisasterRecoverGroupIds": [],
            "LicenseType": "TencentCloud",
            "DisableApiTermination": False,
            "HostName": f"VM-{instance_id[4:]}",
            "DefaultLoginUser": "ubuntu" if "Ubuntu" in os_name else "root",
            "DefaultLoginPort": 22,
            "LatestOperationErrorMsg": None,
        }
        region.instances[instance_id] = inst
        subnet["AvailableIpAddressCount"] -= 1
        for key_id in key_ids:
            region.keypairs[key_id]["AssociatedInstanceIds"].append(instance_id)
        failure = state.take_failure("RunInstances")
        _start_transition(inst, region, "RUNNING", failure)
        return inst

    def _start_transition(inst: dict[str, Any], region: Any, final: str | None, error: str | None = None) -> None:
        t = Transition(left=state.polls, final=final, error=error)
        region.transitions[inst["InstanceId"]] = t
        if t.left <= 0:
            _finish(region, inst["InstanceId"], t)

    def _finish(region: Any, instance_id: str, t: Transition) -> None:
        region.transitions.pop(instance_id, None)
        inst = region.instances[instance_id]
        if t.error:
            # a launch fails for good; any other operation leaves the instance as it was before it
            failed = {"PENDING": "LAUNCH_FAILED", "STARTING": "STOPPED"}.get(inst["InstanceState"], "RUNNING")
            inst.update(InstanceState=failed, LatestOperationState="FAILED", LatestOperationErrorMsg=t.error)
            return
        if t.final is None:
            _release(region, inst)
            return
        inst.update(InstanceState=t.final, LatestOperationState="SUCCESS")

    def _release(region: Any, inst: dict[str, Any]) -> None:
        del region.instances[inst["InstanceId"]]
        for key in region.keypairs.values():
            if inst["InstanceId"] in key["AssociatedInstanceIds"]:
                key["AssociatedInstanceIds"].remove(inst["InstanceId"])
        subnet = region.subnets.get(inst["VirtualPrivateCloud"]["SubnetId"])
        if subnet is not None:
            subnet["AvailableIpAddressCount"] += 1
        for targets in region.targets.values():
            targets[:] = [t for t in targets if t["InstanceId"] != inst["InstanceId"]]

    def _read(call: Call, instance_ids: list[str]) -> None:
        """A read moves every instance it shows one step along its transition."""
        for instance_id in instance_ids:
            t = call.region.transitions.get(instance_id)
            if t is None:
                continue
            if t.left <= 0:
                _finish(call.region, instance_id, t)
            else:
                t.left -= 1

    @act("DescribeInstances")
    def describe_instances(call: Call) -> dict[str, Any]:
        region = call.region
        ids = call.get("InstanceIds") or []
        if len(ids) > 100:
            raise ApiError("InvalidParameterValue.LimitExceeded", "At most 100 InstanceIds")
        _read(call, [i for i in ids if i in region.instances] if ids else list(region.instances))
        items = [region.instances[i] for i in ids if i in region.instances] if ids else list(region.instances.values())
        items = filtered(call, items, {
            "zone": lambda i: i["Placement"]["Zone"], "instance-id": lambda i: i["InstanceId"],
            "instance-name": lambda i: i["InstanceName"], "vpc-id": lambda i: i["VirtualPrivateCloud"]["VpcId"],
            "subnet-id": lambda i: i["VirtualPrivateCloud"]["SubnetId"],
            "security-group-id": lambda i: i["SecurityGroupIds"], "instance-state": lambda i: i["InstanceState"],
        })
        total, items = page(call, items, state.page_size)
        return {"TotalCount": total, "InstanceSet": items}

    @act("DescribeInstancesStatus")
    def describe_status(call: Call) -> dict[str, Any]:
        region = call.region
        ids = call.get("InstanceIds") or []
        _read(call, [i for i in ids if i in region.instances] if ids else list(region.instances))
        items = [region.instances[i] for i in ids if i in region.instances] if ids else list(region.instances.values())
        total, items = page(call, items, state.page_size)
        rows = [{"InstanceId": i["InstanceId"], "InstanceState": i["InstanceState"]} for i in items]
        return {"TotalCount": total, "InstanceStatusSet": rows}

    def _targets(call: Call) -> list[dict[str, Any]]:
        ids = call.require("InstanceIds")
        missing = [i for i in ids if i not in call.region.instances]
        if missing:
            raise ApiError("InvalidInstanceId.NotFound", f"The instance `{missing[0]}` does not exist")
        return [call.region.instances[i] for i in ids]

    def _operate(call: Call, allowed: dict[str, str], moving: str, final: str | None) -> dict[str, Any]:
        """Check every instance can take the operation (``allowed``: state -> refusal code for the
        states that refuse it), then start each on its way."""
        instances = _targets(call)
        for inst in instances:
            st = inst["InstanceState"]
            code = BUSY.get(st) or allowed.get(st)
            if code:
                raise ApiError(code, f"The instance `{inst['InstanceId']}` is {st}")
        failure = state.take_failure(call.action)
        for inst in instances:
            inst.update(InstanceState=moving, LatestOperation=call.action, LatestOperationState="OPERATING",
                        LatestOperationRequestId=call.request_id, LatestOperationErrorMsg=None)
            _start_transition(inst, call.region, final, failure)
        return {}

    @act("StartInstances")
    def start_instances(call: Call) -> dict[str, Any]:
        for inst in _targets(call):
            released = inst["InstanceState"] == "STOPPED" and inst["StopChargingMode"] == "STOP_CHARGING"
            # stopped without charging gave its public IP back: it gets a new one
            if released and inst["InternetAccessible"].get("PublicIpAssigned"):
                inst["PublicIpAddresses"] = [state.public_ip()]
        result = _operate(call, {"RUNNING": "UnsupportedOperation.InstanceStateRunning"}, "STARTING", "RUNNING")
        for inst in _targets(call):
            inst["StopChargingMode"] = "NOT_APPLICABLE"
        return result

    @act("StopInstances")
    def stop_instances(call: Call) -> dict[str, Any]:
        mode = call.get("StoppedMode") or "KEEP_CHARGING"
        if mode not in ("KEEP_CHARGING", "STOP_CHARGING"):
            raise ApiError("InvalidParameterValue", f"StoppedMode `{mode}` is not valid")
        result = _operate(call, {"STOPPED": "UnsupportedOperation.InstanceStateStopped"}, "STOPPING", "STOPPED")
        for inst in _targets(call):
            inst["StopChargingMode"] = "STOP_CHARGING" if mode == "STOP_CHARGING" else "KEEP_CHARGING"
            if mode == "STOP_CHARGING":
                inst["PublicIpAddresses"] = None
        return result

    @act("RebootInstances")
    def reboot_instances(call: Call) -> dict[str, Any]:
        return _operate(call, {"STOPPED": "UnsupportedOperation.InstanceStateStopped"}, "REBOOTING", "RUNNING")

    @act("TerminateInstances")
    def terminate_instances(call: Call) -> dict[str, Any]:
        instances = _targets(call)
        for inst in instances:
            if inst["InstanceState"] in ("PENDING", "TERMINATING"):
                raise ApiError(BUSY[inst["InstanceState"]], f"The instance `{inst['InstanceId']}` is busy")
        for inst in instances:
            inst.update(InstanceState="TERMINATING", LatestOperation="TerminateInstances",
                        LatestOperationState="OPERATING", LatestOperationRequestId=call.request_id)
            _start_transition(inst, call.region, None)
        return {}


def _private_ip(call: Call, subnet: dict[str, Any]) -> str:
    used = {ip for i in call.region.instances.values() for ip in i["PrivateIpAddresses"]}
    used |= {vip for lb in call.region.load_balancers.values() for vip in lb["LoadBalancerVips"]}
    net = ipaddress.ip_network(subnet["CidrBlock"])
    for n, host in enumerate(net.hosts()):
        if n > 0 and str(host) not in used:  # the first host address is the gateway
            return str(host)
    raise ApiError("FailedOperation.NoAvailableIpAddressCountInSubnet", "The subnet has no free address")
