"""VPC service actions: VPCs, subnets, security groups and their policy sets."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.fakes.tencent import catalog
from tests.fakes.tencent.state import ApiError, Call, TencentState, filtered, now, page

Actions = dict[tuple[str, str], Any]
PRIVATE_RANGES = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
NAME_MAX = 60


def _name(call: Call, key: str) -> str:
    name = call.require(key)
    if len(name) > NAME_MAX:
        raise ApiError("InvalidParameterValue.LimitExceeded", f"`{key}` is longer than {NAME_MAX} characters")
    return str(name)


def _cidr(value: str) -> ipaddress.IPv4Network:
    try:
        return ipaddress.ip_network(value, strict=True)  # type: ignore[return-value]
    except ValueError:
        raise ApiError("InvalidParameterValue.Malformed", f"`{value}` is not a CIDR block") from None


def _vpc(call: Call, vpc_id: str) -> dict[str, Any]:
    vpc = call.region.vpcs.get(vpc_id)
    if vpc is None:
        raise ApiError("ResourceNotFound", f"The VPC `{vpc_id}` does not exist")
    return vpc


def _sg(call: Call, sg_id: str) -> dict[str, Any]:
    sg = call.region.security_groups.get(sg_id)
    if sg is None:
        raise ApiError("ResourceNotFound", f"The security group `{sg_id}` does not exist")
    return sg


def _by_ids(call: Call, store: dict[str, dict[str, Any]], key: str, what: str) -> list[dict[str, Any]]:
    ids = call.get(key)
    if not ids:
        return list(store.values())
    missing = [i for i in ids if i not in store]
    if missing:
        raise ApiError("ResourceNotFound", f"The {what} `{missing[0]}` does not exist")
    return [store[i] for i in ids]


def add_vpc_actions(actions: Actions, state: TencentState) -> None:
    def act(name: str) -> Any:
        def deco(fn: Any) -> Any:
            actions[("vpc", name)] = fn
            return fn

        return deco

    # ------------------------------------------------------------ VPCs
    @act("CreateVpc")
    def create_vpc(call: Call) -> dict[str, Any]:
        name = _name(call, "VpcName")
        cidr = _cidr(call.require("CidrBlock"))
        if not any(cidr.subnet_of(r) for r in PRIVATE_RANGES) or not 12 <= cidr.prefixlen <= 28:
            raise ApiError("InvalidParameterValue.Range",
                           f"`{cidr}` must be a /12../28 inside 10/8, 172.16/12 or 192.168/16")
        vpc = {
            "VpcName": name,
            "VpcId": state.new_id("vpc"),
            "CidrBlock": str(cidr),
            "IsDefault": False,
            "EnableMulticast": False,
            "CreatedTime": now(),
            "DnsServerSet": ["183.60.83.19", "183.60.82.98"],
            "DomainName": "",
            "DhcpOptionsId": "",
            "EnableDhcp": True,
            "Ipv6CidrBlock": "",
            "TagSet": [],
            "AssistantCidrSet": [],
            "EnableRouteVpcPublish": False,
            "Ipv6CidrBlockSet": [],
            "EnableRouteVpcPublishIpv6": False,
        }
        call.region.vpcs[vpc["VpcId"]] = vpc
        return {"Vpc": vpc}

    @act("DescribeVpcs")
    def describe_vpcs(call: Call) -> dict[str, Any]:
        items = _by_ids(call, call.region.vpcs, "VpcIds", "VPC")
        items = filtered(call, items, {"vpc-id": lambda v: v["VpcId"], "vpc-name": lambda v: v["VpcName"],
                                       "cidr-block": lambda v: v["CidrBlock"]})
        total, items = page(call, items, state.page_size)
        return {"TotalCount": total, "VpcSet": items}

    @act("DeleteVpc")
    def delete_vpc(call: Call) -> dict[str, Any]:
        vpc_id = call.require("VpcId")
        _vpc(call, vpc_id)
        if any(s["VpcId"] == vpc_id for s in call.region.subnets.values()):
            raise ApiError("ResourceInUse", f"The VPC `{vpc_id}` still has subnets")
        if any(lb["VpcId"] == vpc_id for lb in call.region.load_balancers.values()):
            raise ApiError("ResourceInUse", f"The VPC `{vpc_id}` still has load balancers")
        del call.region.vpcs[vpc_id]
        return {}

    # ------------------------------------------------------------ subnets
    @act("CreateSubnet")
    def create_subnet(call: Call) -> dict[str, Any]:
        vpc = _vpc(call, call.require("VpcId"))
        name = _name(call, "SubnetName")
        zone = call.require("Zone")
        if zone not in catalog.zone_names(call.region.name):
            raise ApiError("InvalidParameterValue", f"The zone `{zone}` is not in region `{call.region.name}`")
        cidr = _cidr(call.require("CidrBlock"))
        if not cidr.subnet_of(ipaddress.ip_network(vpc["CidrBlock"])):  # type: ignore[arg-type]
            raise ApiError("InvalidParameterValue.SubnetRange", f"`{cidr}` is not inside the VPC's {vpc['CidrBlock']}")
        for other in call.region.subnets.values():
            if other["VpcId"] == vpc["VpcId"] and cidr.overlaps(ipaddress.ip_network(other["CidrBlock"])):
                raise ApiError("InvalidParameterValue.SubnetConflict", f"`{cidr}` overlaps subnet {other['SubnetId']}")
        total = cidr.num_addresses - 3  # Tencent keeps the network, gateway and broadcast addresses
        subnet = {
            "VpcId": vpc["VpcId"],
            "SubnetId": state.new_id("subnet"),
            "SubnetName": name,
            "CidrBlock": str(cidr),
            "IsDefault": False,
            "EnableBroadcast": False,
            "Zone": zone,
            "RouteTableId": "rtb-" + vpc["VpcId"][4:],
            "CreatedTime": now(),
            "AvailableIpAddressCount": total,
            "Ipv6CidrBlock": "",
            "NetworkAclId": "",
            "IsRemoteVpcSnat": False,
            "TotalIpAddressCount": total,
            "TagSet": [],
            "CdcId": "",
            "IsCdcSubnet": 0,
        }
        call.region.subnets[subnet["SubnetId"]] = subnet
        return {"Subnet": subnet}

    @act("DescribeSubnets")
    def describe_subnets(call: Call) -> dict[str, Any]:
        items = _by_ids(call, call.region.subnets, "SubnetIds", "subnet")
        items = filtered(call, items, {"vpc-id": lambda s: s["VpcId"], "subnet-id": lambda s: s["SubnetId"],
                                       "subnet-name": lambda s: s["SubnetName"], "zone": lambda s: s["Zone"]})
        total, items = page(call, items, state.page_size)
        return {"TotalCount": total, "SubnetSet": items}

    @act("DeleteSubnet")
    def delete_subnet(call: Call) -> dict[str, Any]:
        subnet_id = call.require("SubnetId")
        if subnet_id not in call.region.subnets:
            raise ApiError("ResourceNotFound", f"The subnet `{subnet_id}` does not exist")
        users = [i["InstanceId"] for i in call.region.instances.values()
                 if i["VirtualPrivateCloud"]["SubnetId"] == subnet_id]
        users += [lb["LoadBalancerId"] for lb in call.region.load_balancers.values() if lb["SubnetId"] == subnet_id]
        if users:
            raise ApiError("ResourceInUse", f"The subnet `{subnet_id}` is used by {users[0]}")
        del call.region.subnets[subnet_id]
        return {}

    # ------------------------------------------------------------ security groups
    @act("CreateSecurityGroup")
    def create_sg(call: Call) -> dict[str, Any]:
        name = _name(call, "GroupName")
        description = call.require("GroupDescription")
        sg = {
            "SecurityGroupId": state.new_id("sg"),
            "SecurityGroupName": name,
            "SecurityGroupDesc": description,
            "ProjectId": str(call.get("ProjectId") or "0"),
            "IsDefault": False,
            "CreatedTime": now(),
            "TagSet": [{"Key": t.get("Key", ""), "Value": t.get("Value", "")} for t in call.get("Tags") or []],
            "UpdateTime": now(),
        }
        call.region.security_groups[sg["SecurityGroupId"]] = sg
        call.region.policies[sg["SecurityGroupId"]] = {"Version": 0, "Ingress": [], "Egress": []}
        return {"SecurityGroup": sg}

    @act("DescribeSecurityGroups")
    def describe_sgs(call: Call) -> dict[str, Any]:
        items = _by_ids(call, call.region.security_groups, "SecurityGroupIds", "security group")
        fields = {"security-group-id": lambda s: s["SecurityGroupId"],
                  "security-group-name": lambda s: s["SecurityGroupName"]}
        for f in call.get("Filters") or []:  # tag:<key> filters on the value of that tag
            key = str(f.get("Name", ""))
            if key.startswith("tag:"):
                fields[key] = lambda s, k=key[4:]: [t["Value"] for t in s["TagSet"] if t["Key"] == k]
        items = filtered(call, items, fields)
        total, items = page(call, items, state.page_size)
        return {"SecurityGroupSet": items, "TotalCount": total}

    @act("DeleteSecurityGroup")
    def delete_sg(call: Call) -> dict[str, Any]:
        sg_id = call.require("SecurityGroupId")
        _sg(call, sg_id)
        users = [i["InstanceId"] for i in call.region.instances.values() if sg_id in i["SecurityGroupIds"]]
        if users:
            raise ApiError("ResourceInUse", f"The security group `{sg_id}` is bound to {users[0]}")
        del call.region.security_groups[sg_id]
        del call.region.policies[sg_id]
        return {}

    @act("DescribeSecurityGroupPolicies")
    def describe_policies(call: Call) -> dict[str, Any]:
        sg_id = call.require("SecurityGroupId")
        _sg(call, sg_id)
        return {"SecurityGroupPolicySet": _policy_set(call.region.policies[sg_id])}

    @act("CreateSecurityGroupPolicies")
    def create_policies(call: Call) -> dict[str, Any]:
        sg_id, ps, incoming = _policy_request(call)
        for direction, rules in incoming.items():
            existing = [_key(p) for p in ps[direction]]
            for rule in rules:
                if _key(rule) in existing:
                    raise ApiError("UnsupportedOperation.DuplicatePolicy",
                                   f"The {direction} policy {_key(rule)} exists")
                existing.append(_key(rule))
            ps[direction].extend(rules)
        _bump(call, sg_id, ps)
        return {}

    @act("DeleteSecurityGroupPolicies")
    def delete_policies(call: Call) -> dict[str, Any]:
        sg_id, ps, incoming = _policy_request(call, content_needed=False)
        for direction, rules in incoming.items():
            for rule in rules:
                if "PolicyIndex" in rule and len(rule) == 1:
                    idx = rule["PolicyIndex"]
                    if not 0 <= idx < len(ps[direction]):
                        raise ApiError("ResourceNotFound", f"No {direction} policy at index {idx}")
                    ps[direction][idx] = None
                    continue
                keys = [_key(p) if p else None for p in ps[direction]]
                if _key(rule) not in keys:
                    raise ApiError("ResourceNotFound", f"The {direction} policy {_key(rule)} does not exist")
                ps[direction][keys.index(_key(rule))] = None
            ps[direction] = [p for p in ps[direction] if p]
        _bump(call, sg_id, ps)
        return {}

    @act("ReplaceSecurityGroupPolicies")
    def replace_policies(call: Call) -> dict[str, Any]:
        sg_id, ps, incoming = _policy_request(call, both_directions=True)
        for direction in ("Ingress", "Egress"):
            ps[direction] = incoming.get(direction, [])
        _bump(call, sg_id, ps)
        return {}

    @act("ModifySecurityGroupPolicies")
    def modify_policies(call: Call) -> dict[str, Any]:
        return replace_policies(call)

    def _policy_request(
        call: Call, *, both_directions: bool = False, content_needed: bool = True
    ) -> tuple[str, dict[str, Any], dict[str, list[dict[str, Any]]]]:
        sg_id = call.require("SecurityGroupId")
        _sg(call, sg_id)
        ps = call.region.policies[sg_id]
        body = call.require("SecurityGroupPolicySet")
        version = body.get("Version")
        if version not in (None, "") and str(version) != str(ps["Version"]):
            raise ApiError("UnsupportedOperation.VersionMismatch",
                           f"The policy set is at version {ps['Version']}, the request names {version}")
        incoming = {d: [dict(p) for p in body.get(d) or []] for d in ("Ingress", "Egress")}
        if not both_directions and incoming["Ingress"] and incoming["Egress"]:
            # the API takes one direction per request for appends and deletes
            raise ApiError("InvalidParameter", "Ingress and Egress cannot be given in one request")
        for direction, rules in incoming.items():
            for rule in rules:
                if content_needed or "PolicyIndex" not in rule or len(rule) > 1:
                    _check_policy(rule, direction)
        return sg_id, ps, {d: r for d, r in incoming.items() if r}

    def _bump(call: Call, sg_id: str, ps: dict[str, Any]) -> None:
        ps["Version"] += 1
        call.region.security_groups[sg_id]["UpdateTime"] = now()


def _check_policy(rule: dict[str, Any], direction: str) -> None:
    protocol = str(rule.get("Protocol", "")).upper()
    if protocol not in ("TCP", "UDP", "ICMP", "ICMPV6", "ALL", "GRE"):
        raise ApiError("InvalidParameterValue.Malformed", f"Protocol `{rule.get('Protocol')}` is not valid")
    port = str(rule.get("Port", "ALL"))
    if protocol in ("TCP", "UDP"):
        parts = port.split("-") if port != "ALL" else []
        if port != "ALL" and not (1 <= len(parts) <= 2 and all(p.isdigit() and 1 <= int(p) <= 65535 for p in parts)):
            raise ApiError("InvalidParameterValue.Range", f"Port `{port}` is not valid")
    elif port not in ("ALL", ""):
        raise ApiError("InvalidParameterValue.Malformed", f"Port `{port}` is only for TCP and UDP")
    if bool(rule.get("CidrBlock")) == bool(rule.get("Ipv6CidrBlock")):
        raise ApiError("InvalidParameter", f"{direction} policy needs exactly one of CidrBlock and Ipv6CidrBlock")
    try:
        net = ipaddress.ip_network(rule.get("CidrBlock") or rule.get("Ipv6CidrBlock"), strict=False)
    except ValueError:
        raise ApiError("InvalidParameterValue.Malformed", "CidrBlock is not a CIDR block") from None
    if (net.version == 6) != bool(rule.get("Ipv6CidrBlock")):
        raise ApiError("InvalidParameterValue.Malformed", "an IPv6 block goes in Ipv6CidrBlock, IPv4 in CidrBlock")
    if str(rule.get("Action", "")).upper() not in ("ACCEPT", "DROP"):
        raise ApiError("InvalidParameterValue.Malformed", "Action must be ACCEPT or DROP")


def _key(rule: dict[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(rule.get("Protocol", "")).upper(),
        str(rule.get("Port", "ALL")) or "ALL",
        str(rule.get("CidrBlock") or rule.get("Ipv6CidrBlock") or ""),
        str(rule.get("Action", "")).upper(),
    )


def _policy_set(ps: dict[str, Any]) -> dict[str, Any]:
    def out(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = []
        for i, r in enumerate(rules):
            rows.append(
                {
                    "PolicyIndex": i,
                    "Protocol": str(r.get("Protocol", "")).upper(),
                    "Port": str(r.get("Port", "ALL")) or "ALL",
                    "CidrBlock": r.get("CidrBlock", ""),
                    "Ipv6CidrBlock": r.get("Ipv6CidrBlock", ""),
                    "SecurityGroupId": "",
                    "Action": str(r.get("Action", "")).upper(),
                    "PolicyDescription": r.get("PolicyDescription", ""),
                    "ModifyTime": now(),
                    "ServiceTemplate": {"ServiceId": "", "ServiceGroupId": ""},
                    "AddressTemplate": {"AddressId": "", "AddressGroupId": ""},
                }
            )
        return rows

    return {"Version": str(ps["Version"]), "Egress": out(ps["Egress"]), "Ingress": out(ps["Ingress"])}
