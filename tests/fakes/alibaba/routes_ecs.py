"""ECS 2014-05-26 actions of the fake: catalog, security groups, key pairs, instances."""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
from typing import Any

from tests.fakes.alibaba import catalog
from tests.fakes.alibaba.state import RELEASED, AliState, Params, as_bool, as_int, fail, items, need, now
from tests.fakes.server import RouteTable

Handler = Any


def _region(state: AliState, p: Params) -> str:
    # actions keyed by an instance id take no RegionId: the endpoint's region applies
    region = p.get("RegionId") or "cn-hangzhou"
    if region not in catalog.REGIONS:
        raise fail(404, "InvalidRegionId.NotFound", f"The specified RegionId {region!r} does not exist.")
    return region


# ---------------------------------------------------------------- catalog
def describe_regions(state: AliState, p: Params) -> dict[str, Any]:
    regions = [
        {"RegionId": r, "LocalName": v["LocalName"], "RegionEndpoint": "ecs.aliyuncs.com", "Status": "available"}
        for r, v in catalog.REGIONS.items()
    ]
    return {"Regions": {"Region": regions}}


def describe_zones(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(state, p)
    zones = [
        {
            "ZoneId": z,
            "LocalName": z.replace(region + "-", "Zone ").upper(),
            "ZoneType": "AvailabilityZone",
            "AvailableInstanceTypes": {"InstanceTypes": [t[0] for t in catalog.INSTANCE_TYPES]},
            "AvailableDiskCategories": {"DiskCategories": catalog.SYSTEM_DISK_CATEGORIES},
            "AvailableResourceCreation": {"ResourceTypes": ["Instance", "Disk", "VSwitch"]},
        }
        for z in catalog.REGIONS[region]["zones"]
    ]
    return {"Zones": {"Zone": zones}}


def describe_images(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(state, p)
    wanted = {i.strip() for i in (p.get("ImageId") or "").split(",") if i.strip()}
    found = [catalog.image_body(e) for e in catalog.IMAGES if not wanted or e[0] in wanted]
    if p.get("ImageName"):
        found = [i for i in found if i["ImageName"] == p["ImageName"]]
    chunk, paging = state.page(p, found)
    return {"RegionId": region, "Images": {"Image": chunk}, **paging}


def describe_instance_types(state: AliState, p: Params) -> dict[str, Any]:
    wanted = set(items(p, "InstanceTypes"))
    found = [catalog.instance_type_body(e) for e in catalog.INSTANCE_TYPES if not wanted or e[0] in wanted]
    if p.get("InstanceTypeFamily"):
        found = [t for t in found if t["InstanceTypeFamily"] == p["InstanceTypeFamily"]]
    chunk, paging = state.token_page(p, found, default_size=100, max_size=1600)
    out: dict[str, Any] = {"InstanceTypes": {"InstanceType": chunk}}
    if paging["NextToken"]:
        out["NextToken"] = paging["NextToken"]
    return out


def describe_available_resource(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(state, p)
    zones = [z for z in catalog.REGIONS[region]["zones"] if not p.get("ZoneId") or z == p["ZoneId"]]
    types = [t[0] for t in catalog.INSTANCE_TYPES if not p.get("InstanceType") or t[0] == p["InstanceType"]]
    return {
        "AvailableZones": {
            "AvailableZone": [
                {
                    "ZoneId": z,
                    "RegionId": region,
                    "Status": "Available",
                    "StatusCategory": "WithStock",
                    "AvailableResources": {
                        "AvailableResource": [
                            {
                                "Type": "InstanceType",
                                "SupportedResources": {
                                    "SupportedResource": [
                                        {"Value": t, "Status": "Available", "StatusCategory": "WithStock"}
                                        for t in types
                                    ]
                                },
                            }
                        ]
                    },
                }
                for z in zones
            ]
        }
    }


# ---------------------------------------------------------------- security groups
def _sg(state: AliState, sg_id: str | None) -> dict[str, Any]:
    sg = state.sgs.get(sg_id or "")
    if sg is None:
        raise fail(404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist.")
    return sg


def create_security_group(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(state, p)
    vpc_id = p.get("VpcId")
    if vpc_id and vpc_id not in state.vpcs:
        raise fail(404, "InvalidVpcId.NotFound", "The specified VpcId does not exist.")
    sg_id = state.new_id("sg")
    state.sgs[sg_id] = {
        "SecurityGroupId": sg_id,
        "SecurityGroupName": p.get("SecurityGroupName", ""),
        "Description": p.get("Description", ""),
        "VpcId": vpc_id or "",
        "CreationTime": now(),
        "SecurityGroupType": p.get("SecurityGroupType", "normal"),
        "RegionId": region,
        "ResourceGroupId": "",
    }
    # A new group of the normal type accepts nothing inbound and allows all outbound: Alibaba
    # shows no egress rule for that default (the allow-all is implicit until an egress rule exists).
    state.rules[sg_id] = []
    return {"SecurityGroupId": sg_id}


def describe_security_groups(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(state, p)
    ids = set(items(p, "SecurityGroupIds"))
    if p.get("SecurityGroupId"):
        ids.add(p["SecurityGroupId"])
    found = [
        sg
        for sg in state.sgs.values()
        if (not ids or sg["SecurityGroupId"] in ids)
        and (not p.get("VpcId") or sg["VpcId"] == p["VpcId"])
        and (not p.get("SecurityGroupName") or sg["SecurityGroupName"] == p["SecurityGroupName"])
    ]
    out_list = []
    for sg in found:
        entry = {k: v for k, v in sg.items() if k != "RegionId"}
        entry["EcsCount"] = sum(
            1 for i in state.instances.values() if sg["SecurityGroupId"] in i["SecurityGroupIds"]["SecurityGroupId"]
        )
        out_list.append(entry)
    if "NextToken" in p or "MaxResults" in p:
        chunk, paging = state.token_page(p, out_list, default_size=10)
        paging.pop("TotalCount")
        paging.pop("MaxResults")
    else:
        chunk, paging = state.page(p, out_list, default_size=10, max_size=50)
    return {"RegionId": region, "SecurityGroups": {"SecurityGroup": chunk}, **paging}


def describe_security_group_attribute(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(state, p)
    sg = _sg(state, p.get("SecurityGroupId"))
    perms = state.rules[sg["SecurityGroupId"]]
    direction = p.get("Direction", "all")
    if direction in ("ingress", "egress"):
        perms = [r for r in perms if r["Direction"] == direction]
    return {
        "RegionId": region,
        "SecurityGroupId": sg["SecurityGroupId"],
        "SecurityGroupName": sg["SecurityGroupName"],
        "VpcId": sg["VpcId"],
        "Description": sg["Description"],
        "InnerAccessPolicy": "Accept",
        "Permissions": {"Permission": copy.deepcopy(perms)},
    }


def _rule_inputs(p: Params, direction: str) -> list[dict[str, str]]:
    perms = items(p, "Permissions")
    if perms:
        return [x for x in perms if isinstance(x, dict)]
    keys = (
        "IpProtocol",
        "PortRange",
        "SourceCidrIp",
        "Ipv6SourceCidrIp",
        "DestCidrIp",
        "Ipv6DestCidrIp",
        "Policy",
        "Priority",
        "NicType",
        "Description",
        "SourceGroupId",
        "DestGroupId",
    )
    single = {k: p[k] for k in keys if p.get(k)}
    return [single] if single else []


_PROTOCOLS = {"tcp", "udp", "icmp", "gre", "all", "icmpv6"}


def _normalise_rule(raw: dict[str, str], direction: str) -> dict[str, Any]:
    proto = (raw.get("IpProtocol") or "").lower()
    if proto not in _PROTOCOLS:
        raise fail(400, "InvalidIpProtocol.ValueNotSupported", "The specified IpProtocol does not exist.")
    port_range = raw.get("PortRange") or ("-1/-1" if proto in ("icmp", "all", "gre", "icmpv6") else "")
    try:
        low, high = (int(x) for x in port_range.split("/"))
    except ValueError:
        raise fail(400, "InvalidPortRange.Malformed", "The specified parameter PortRange is not valid.") from None
    if proto in ("tcp", "udp") and not (1 <= low <= high <= 65535):
        raise fail(400, "InvalidPortRange.Malformed", "The specified parameter PortRange is not valid.")
    if proto not in ("tcp", "udp") and (low, high) != (-1, -1):
        raise fail(400, "InvalidParam.PortRange", "The specified parameter PortRange is not valid.")
    side = "Source" if direction == "ingress" else "Dest"
    v4, v6 = raw.get(f"{side}CidrIp", ""), raw.get(f"Ipv6{side}CidrIp", "")
    if not v4 and not v6:
        raise fail(400, f"MissingParameter.{side}", f"The parameter {side}CidrIp is required.")
    for value, version, code in ((v4, 4, f"Invalid{side}CidrIp.Malformed"), (v6, 6, f"InvalidParam.Ipv6{side}CidrIp")):
        if value:
            try:
                if ipaddress.ip_network(value, strict=False).version != version:
                    raise ValueError(value)
            except ValueError:
                raise fail(400, code, f"The specified {side}CidrIp is not valid.") from None
    policy = (raw.get("Policy") or "accept").lower()
    return {
        "Direction": direction,
        "IpProtocol": proto.upper(),
        "PortRange": f"{low}/{high}",
        f"{side}CidrIp": v4,
        f"Ipv6{side}CidrIp": v6,
        "Policy": "Accept" if policy == "accept" else "Drop",
        "Priority": str(raw.get("Priority") or "1"),
        "NicType": raw.get("NicType") or "intranet",
        "Description": raw.get("Description", ""),
    }


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    return (
        rule["Direction"],
        rule["IpProtocol"],
        rule["PortRange"],
        rule.get("SourceCidrIp", ""),
        rule.get("Ipv6SourceCidrIp", ""),
        rule.get("DestCidrIp", ""),
        rule.get("Ipv6DestCidrIp", ""),
        rule["Policy"],
        rule["Priority"],
    )


def _authorize(direction: str) -> Handler:
    def handler(state: AliState, p: Params) -> dict[str, Any]:
        _region(state, p)
        sg = _sg(state, p.get("SecurityGroupId"))
        new = [_normalise_rule(r, direction) for r in _rule_inputs(p, direction)]
        if not new:
            raise fail(400, "MissingParameter", "The input parameter IpProtocol is not supplied.")
        rules = state.rules[sg["SecurityGroupId"]]
        have = {_rule_key(r) for r in rules}
        for rule in new:
            # Alibaba answers 200 to a rule that already exists and adds nothing
            if _rule_key(rule) in have:
                continue
            rule["SecurityGroupRuleId"] = state.new_id("sgr")
            rule["CreateTime"] = now()
            rules.append(rule)
            have.add(_rule_key(rule))
        return {}

    return handler


def _revoke(direction: str) -> Handler:
    def handler(state: AliState, p: Params) -> dict[str, Any]:
        _region(state, p)
        sg = _sg(state, p.get("SecurityGroupId"))
        rules = state.rules[sg["SecurityGroupId"]]
        rule_ids = items(p, "SecurityGroupRuleId")
        if rule_ids:
            known = {r["SecurityGroupRuleId"] for r in rules}
            missing = [i for i in rule_ids if i not in known]
            if missing:
                raise fail(404, "InvalidSecurityGroupRuleId.NotFound", f"The rule {missing[0]} does not exist.")
            rules[:] = [r for r in rules if r["SecurityGroupRuleId"] not in rule_ids]
            return {}
        gone = {_rule_key(_normalise_rule(r, direction)) for r in _rule_inputs(p, direction)}
        # revoking a rule that does not exist is a 200 with no effect, as on Alibaba
        rules[:] = [r for r in rules if _rule_key(r) not in gone]
        return {}

    return handler


def delete_security_group(state: AliState, p: Params) -> dict[str, Any]:
    _region(state, p)
    sg_id = p.get("SecurityGroupId") or ""
    if sg_id not in state.sgs:
        raise fail(404, "InvalidSecurityGroup.NotFound", "The specified security group is not found.")
    if any(sg_id in i["SecurityGroupIds"]["SecurityGroupId"] for i in state.instances.values()):
        raise fail(403, "DependencyViolation", "There is still instance(s) in the specified security group.")
    del state.sgs[sg_id]
    del state.rules[sg_id]
    return {}


# ---------------------------------------------------------------- key pairs
def _fingerprint(public_key: str) -> str:
    blob = base64.b64decode(public_key.split()[1])
    return hashlib.md5(blob).hexdigest()


def _check_key_name(name: str) -> None:
    if (
        not (2 <= len(name) <= 128)
        or not name[0].isalpha()
        or name.startswith(("http://", "https://"))
        or not all(c.isalnum() or c in "._:-" for c in name)
    ):
        raise fail(400, "InvalidKeyPairName.Malformed", "Specified key pair name is not valid.")


def create_key_pair(state: AliState, p: Params) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    _region(state, p)
    name = need(p, "KeyPairName")
    _check_key_name(name)
    if name in state.keypairs:
        raise fail(400, "KeyPair.AlreadyExist", "The key pair already exist.")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    pair = {
        "KeyPairName": name,
        "KeyPairFingerPrint": _fingerprint(public),
        "CreationTime": now(),
        "ResourceGroupId": "",
        "PublicKey": public,
    }
    state.keypairs[name] = pair
    return {
        "KeyPairName": name,
        "KeyPairFingerPrint": pair["KeyPairFingerPrint"],
        "PrivateKeyBody": private,
        "KeyPairId": state.new_id("kp"),
    }


def import_key_pair(state: AliState, p: Params) -> dict[str, Any]:
    _region(state, p)
    name = need(p, "KeyPairName")
    _check_key_name(name)
    body = need(p, "PublicKeyBody")
    parts = body.split()
    try:
        if len(parts) < 2 or not parts[0].startswith(("ssh-", "ecdsa-")):
            raise ValueError(body)
        fingerprint = _fingerprint(body)
    except ValueError:
        raise fail(400, "InvalidPublicKeyBody.Malformed", "The specified public key body is malformed.") from None
    if name in state.keypairs:
        raise fail(400, "KeyPair.AlreadyExist", "The key pair already exist.")
    state.keypairs[name] = {
        "KeyPairName": name,
        "KeyPairFingerPrint": fingerprint,
        "CreationTime": now(),
        "ResourceGroupId": "",
        "PublicKey": " ".join(parts[:2]),
    }
    return {"KeyPairName": name, "KeyPairFingerPrint": fingerprint}


def describe_key_pairs(state: AliState, p: Params) -> dict[str, Any]:
    _region(state, p)
    name = p.get("KeyPairName")
    found = [dict(k) for k in state.keypairs.values() if not name or k["KeyPairName"] == name]
    if not as_bool(p.get("IncludePublicKey"), False):
        for k in found:
            k.pop("PublicKey", None)
    chunk, paging = state.page(p, found, default_size=10, max_size=50)
    return {"KeyPairs": {"KeyPair": chunk}, **paging}


def delete_key_pairs(state: AliState, p: Params) -> dict[str, Any]:
    _region(state, p)
    names = items(p, "KeyPairNames")
    if not names:
        raise fail(400, "MissingParameter", "The input parameter KeyPairNames is not supplied.")
    for name in names:
        if any(i.get("KeyPairName") == name for i in state.instances.values()):
            raise fail(
                400,
                "InvalidParameter.KeypairAlreadyAttachedInstance",
                "The specified keypair has already been attached to instance.",
            )
    for name in names:
        # names that do not exist are skipped silently, as on Alibaba
        state.keypairs.pop(name, None)
    return {}


# ---------------------------------------------------------------- instances
_TYPES = {t[0]: t for t in catalog.INSTANCE_TYPES}
_IMAGES = {i[0]: i for i in catalog.IMAGES}


def _instance(state: AliState, instance_id: str | None) -> dict[str, Any]:
    if not instance_id or instance_id not in state.instances:
        raise fail(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist.")
    return state.instances[instance_id]


def run_instances(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(state, p)
    image_id = need(p, "ImageId")
    if image_id not in _IMAGES:
        raise fail(404, "InvalidImageId.NotFound", "The specified ImageId does not exist.")
    itype = need(p, "InstanceType")
    if itype not in _TYPES:
        raise fail(400, "InvalidInstanceType.ValueNotSupported", "The specified InstanceType does not exist.")
    vsw_id = need(p, "VSwitchId")
    vsw = state.vswitches.get(vsw_id)
    if vsw is None:
        raise fail(404, "InvalidVSwitchId.NotFound", "The specified VSwitchId does not exist.")
    if vsw["Status"] != "Available":
        raise fail(400, "IncorrectVSwitchStatus", "The current status of vSwitch does not support this operation.")
    sg_ids = items(p, "SecurityGroupIds") or ([p["SecurityGroupId"]] if p.get("SecurityGroupId") else [])
    if not sg_ids:
        raise fail(400, "MissingParameter", "The input parameter SecurityGroupId is not supplied.")
    for sg_id in sg_ids:
        sg = state.sgs.get(sg_id)
        if sg is None:
            raise fail(404, "InvalidSecurityGroupId.NotFound", "The specified SecurityGroupId does not exist.")
        if sg["VpcId"] != vsw["VpcId"]:
            raise fail(403, "InvalidSecurityGroupId.NotVpc", "The specified security group is not in the VPC.")
    key = p.get("KeyPairName")
    if key and key not in state.keypairs:
        raise fail(404, "InvalidKeyPairName.NotFound", "The specified KeyPairName does not exist.")
    category = p.get("SystemDisk.Category") or "cloud_efficiency"
    if category not in catalog.SYSTEM_DISK_CATEGORIES:
        raise fail(
            400, "InvalidSystemDiskCategory.ValueNotSupported", "The specified system disk category is not valid."
        )
    size = as_int(p.get("SystemDisk.Size"), _IMAGES[image_id][5])
    if not (20 <= size <= 2048) or size < _IMAGES[image_id][5]:
        raise fail(400, "InvalidSystemDiskSize.ValueNotSupported", "The specified system disk size is not valid.")
    zone = p.get("ZoneId") or vsw["ZoneId"]
    if zone != vsw["ZoneId"]:
        raise fail(400, "InvalidParameter.Mismatch", "The specified ZoneId does not match the VSwitch's zone.")
    bandwidth = as_int(p.get("InternetMaxBandwidthOut"), 0)
    amount = as_int(p.get("Amount"), 1)
    name = p.get("InstanceName") or ""
    if name and not (2 <= len(name) <= 128 and name[0].isalpha()):
        raise fail(400, "InvalidInstanceName.Malformed", "The specified parameter InstanceName is not valid.")
    ids = []
    for _ in range(amount):
        instance_id = state.new_id("i")
        _, family, vcpus, memory = _TYPES[itype]
        image = _IMAGES[image_id]
        state.instances[instance_id] = {
            "InstanceId": instance_id,
            "InstanceName": name or instance_id,
            "HostName": p.get("HostName") or instance_id,
            "Description": p.get("Description", ""),
            "Status": "Pending",
            "InstanceType": itype,
            "InstanceTypeFamily": family,
            "Cpu": vcpus,
            "Memory": int(memory * 1024),
            "ImageId": image_id,
            "OSType": image[2],
            "OSName": image[1],
            "RegionId": region,
            "ZoneId": zone,
            "KeyPairName": key or "",
            "CreationTime": now(),
            "StartTime": now(),
            "InternetMaxBandwidthOut": bandwidth,
            "InternetMaxBandwidthIn": 200,
            "InternetChargeType": p.get("InternetChargeType") or "PayByTraffic",
            "InstanceChargeType": p.get("InstanceChargeType") or "PostPaid",
            "InstanceNetworkType": "vpc",
            "IoOptimized": True,
            "DeletionProtection": False,
            "StoppedMode": "Not-applicable",
            "ExpiredTime": "2099-12-31T15:59Z",
            "SerialNumber": instance_id.replace("i-", "ser-"),
            "VpcAttributes": {
                "VpcId": vsw["VpcId"],
                "VSwitchId": vsw_id,
                "NatIpAddress": "",
                "PrivateIpAddress": {"IpAddress": [state.private_ip(vsw)]},
            },
            "PublicIpAddress": {"IpAddress": [state.public_ip()] if bandwidth > 0 else []},
            "InnerIpAddress": {"IpAddress": []},
            "SecurityGroupIds": {"SecurityGroupId": list(sg_ids)},
            "Tags": {
                "Tag": [
                    {"TagKey": t.get("Key", ""), "TagValue": t.get("Value", "")}
                    for t in items(p, "Tag")
                    if isinstance(t, dict)
                ]
            },
        }
        if state.fail_next_instance:
            state.fail_next_instance = False
            state.move(instance_id, ["Pending"], RELEASED)
        else:
            state.move(instance_id, ["Pending", "Starting"], "Running")
        ids.append(instance_id)
    return {"InstanceIdSets": {"InstanceIdSet": ids}, "OrderId": "", "TradePrice": 0.0}


def _public(inst: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in inst.items() if not k.startswith("_")}


def describe_instances(state: AliState, p: Params) -> dict[str, Any]:
    _region(state, p)
    ids = items(p, "InstanceIds")
    found = [i for i in (state.advance(i) for i in list(state.instances) if not ids or i in ids) if i is not None]
    for key, member in (
        ("VpcId", None),
        ("VSwitchId", None),
        ("ZoneId", "ZoneId"),
        ("InstanceName", "InstanceName"),
        ("Status", "Status"),
        ("KeyPairName", "KeyPairName"),
    ):
        want = p.get(key)
        if want:
            if member is None:
                found = [i for i in found if i["VpcAttributes"][key] == want]
            else:
                found = [i for i in found if i[member] == want]
    if p.get("SecurityGroupId"):
        found = [i for i in found if p["SecurityGroupId"] in i["SecurityGroupIds"]["SecurityGroupId"]]
    entries = [_public(i) for i in found]
    if "NextToken" in p or "MaxResults" in p:
        chunk, paging = state.token_page(p, entries, default_size=10)
        paging.pop("MaxResults")
    else:
        chunk, paging = state.page(p, entries, default_size=10)
    return {"Instances": {"Instance": chunk}, **paging}


def describe_instance_status(state: AliState, p: Params) -> dict[str, Any]:
    _region(state, p)
    ids = items(p, "InstanceId")
    found = [i for i in (state.advance(i) for i in list(state.instances) if not ids or i in ids) if i is not None]
    chunk, paging = state.page(
        p, [{"InstanceId": i["InstanceId"], "Status": i["Status"]} for i in found], default_size=10, max_size=50
    )
    return {"InstanceStatuses": {"InstanceStatus": chunk}, **paging}


def _status_error() -> Exception:
    return fail(403, "IncorrectInstanceStatus", "The current status of the resource does not support this operation.")


def start_instance(state: AliState, p: Params) -> dict[str, Any]:
    inst = _instance(state, p.get("InstanceId"))
    if inst["Status"] != "Stopped":
        raise _status_error()
    inst["StoppedMode"] = "Not-applicable"
    if not inst["PublicIpAddress"]["IpAddress"] and inst["InternetMaxBandwidthOut"] > 0:
        # a StopCharging stop gives the public IP back; a start takes a new one
        inst["PublicIpAddress"]["IpAddress"] = [state.public_ip()]
    state.move(inst["InstanceId"], ["Starting"], "Running")
    return {}


def stop_instance(state: AliState, p: Params) -> dict[str, Any]:
    inst = _instance(state, p.get("InstanceId"))
    if inst["Status"] != "Running":
        raise _status_error()
    mode = p.get("StoppedMode") or "KeepCharging"
    inst["StoppedMode"] = mode
    if mode == "StopCharging":
        inst["PublicIpAddress"]["IpAddress"] = []
    state.move(inst["InstanceId"], ["Stopping"], "Stopped")
    return {}


def reboot_instance(state: AliState, p: Params) -> dict[str, Any]:
    inst = _instance(state, p.get("InstanceId"))
    if inst["Status"] != "Running":
        raise _status_error()
    state.move(inst["InstanceId"], ["Stopping", "Starting"], "Running")
    return {}


def delete_instance(state: AliState, p: Params) -> dict[str, Any]:
    inst = _instance(state, p.get("InstanceId"))
    force = as_bool(p.get("Force"), False)
    if inst["Status"] in ("Pending", "Starting", "Stopping") or (inst["Status"] == "Running" and not force):
        raise _status_error()
    for servers in state.servers.values():
        # ECS leaves an NLB server group on release
        servers[:] = [s for s in servers if s["ServerId"] != inst["InstanceId"]]
    vsw = state.vswitches.get(inst["VpcAttributes"]["VSwitchId"])
    if vsw is not None:
        for ip in inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"]:
            if ip in vsw.get("_used", []):
                vsw["_used"].remove(ip)
    del state.instances[inst["InstanceId"]]
    state.progress.pop(inst["InstanceId"], None)
    return {}


def add_ecs_routes(t: RouteTable, state: AliState, bind: Any) -> None:
    for action, fn in {
        "DescribeRegions": describe_regions,
        "DescribeZones": describe_zones,
        "DescribeImages": describe_images,
        "DescribeInstanceTypes": describe_instance_types,
        "DescribeAvailableResource": describe_available_resource,
        "CreateSecurityGroup": create_security_group,
        "DescribeSecurityGroups": describe_security_groups,
        "DescribeSecurityGroupAttribute": describe_security_group_attribute,
        "AuthorizeSecurityGroup": _authorize("ingress"),
        "AuthorizeSecurityGroupEgress": _authorize("egress"),
        "RevokeSecurityGroup": _revoke("ingress"),
        "RevokeSecurityGroupEgress": _revoke("egress"),
        "DeleteSecurityGroup": delete_security_group,
        "CreateKeyPair": create_key_pair,
        "ImportKeyPair": import_key_pair,
        "DescribeKeyPairs": describe_key_pairs,
        "DeleteKeyPairs": delete_key_pairs,
        "RunInstances": run_instances,
        "DescribeInstances": describe_instances,
        "DescribeInstanceStatus": describe_instance_status,
        "StartInstance": start_instance,
        "StopInstance": stop_instance,
        "RebootInstance": reboot_instance,
        "DeleteInstance": delete_instance,
    }.items():
        bind(t, "ecs", action, fn)
