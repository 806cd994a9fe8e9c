"""VPC 2016-04-28 and NLB 2022-04-30 actions of the fake."""

from __future__ import annotations

import copy
import ipaddress
from typing import Any

from tests.fakes.alibaba import catalog
from tests.fakes.alibaba.state import AliState, Params, as_bool, as_int, fail, items, need, now_seconds, sub
from tests.fakes.server import RouteTable


def _region(p: Params) -> str:
    region = p.get("RegionId") or "cn-hangzhou"
    if region not in catalog.REGIONS:
        raise fail(404, "InvalidRegionId.NotFound", f"The specified RegionId {region!r} does not exist.")
    return region


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in entry.items() if not k.startswith("_")}


# ---------------------------------------------------------------- VPC
def vpc_describe_regions(state: AliState, p: Params) -> dict[str, Any]:
    return {
        "Regions": {
            "Region": [
                {"RegionId": r, "LocalName": v["LocalName"], "RegionEndpoint": "vpc.aliyuncs.com"}
                for r, v in catalog.REGIONS.items()
            ]
        }
    }


def vpc_describe_zones(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(p)
    return {"Zones": {"Zone": [{"ZoneId": z, "LocalName": z} for z in catalog.REGIONS[region]["zones"]]}}


def _cidr(value: str | None, code: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(value or "", strict=True)
    except ValueError:
        raise fail(400, code, "The specified CidrBlock is invalid.") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise fail(400, code, "The specified CidrBlock is invalid.")
    return net


def create_vpc(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(p)
    net = _cidr(p.get("CidrBlock") or "172.16.0.0/12", "InvalidParameter")
    if not 8 <= net.prefixlen <= 28:
        raise fail(400, "InvalidParameter", "The specified CidrBlock is invalid.")
    name = p.get("VpcName", "")
    if name and (len(name) > 128 or name.startswith(("http://", "https://"))):
        raise fail(400, "InvalidVpcName.Malformed", "Specified VPC name is not valid.")
    vpc_id = state.new_id("vpc")
    state.vpcs[vpc_id] = {
        "VpcId": vpc_id,
        "VpcName": name,
        "CidrBlock": str(net),
        "Description": p.get("Description", ""),
        "Status": "Pending" if state.state_polls else "Available",
        "_left": state.state_polls,
        "CreationTime": now_seconds(),
        "IsDefault": False,
        "RegionId": region,
        "VRouterId": state.new_id("vrt"),
        "ResourceGroupId": "rg-acfmxazb4ph6aiy",
        "OwnerId": 1234567890,
        "_route_table": state.new_id("vtb"),
    }
    return {
        "VpcId": vpc_id,
        "VRouterId": state.vpcs[vpc_id]["VRouterId"],
        "RouteTableId": state.vpcs[vpc_id]["_route_table"],
        "ResourceGroupId": "rg-acfmxazb4ph6aiy",
    }


def _vpc_view(state: AliState, vpc: dict[str, Any]) -> dict[str, Any]:
    state.settle(vpc)
    out = _public(vpc)
    out["VSwitchIds"] = {"VSwitchId": [v for v, s in state.vswitches.items() if s["VpcId"] == vpc["VpcId"]]}
    return out


def describe_vpcs(state: AliState, p: Params) -> dict[str, Any]:
    _region(p)
    ids = {i.strip() for i in (p.get("VpcId") or "").split(",") if i.strip()}
    found = [
        _vpc_view(state, v)
        for v in state.vpcs.values()
        if (not ids or v["VpcId"] in ids) and (not p.get("VpcName") or v["VpcName"] == p["VpcName"])
    ]
    chunk, paging = state.page(p, found, default_size=10, max_size=50)
    return {"Vpcs": {"Vpc": chunk}, **paging}


def delete_vpc(state: AliState, p: Params) -> dict[str, Any]:
    _region(p)
    vpc_id = p.get("VpcId") or ""
    if vpc_id not in state.vpcs:
        raise fail(404, "InvalidVpcId.NotFound", "Specified VPC does not exist.")
    if any(s["VpcId"] == vpc_id for s in state.vswitches.values()):
        raise fail(400, "DependencyViolation.VSwitch", "Specified object has dependent resources: VSwitch.")
    if any(sg["VpcId"] == vpc_id for sg in state.sgs.values()):
        raise fail(400, "DependencyViolation.SecurityGroup", "Specified object has dependent resources: SecurityGroup.")
    del state.vpcs[vpc_id]
    return {}


def create_vswitch(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(p)
    vpc = state.vpcs.get(need(p, "VpcId", "MissingParam.vpcId"))
    if vpc is None:
        raise fail(404, "InvalidVpcId.NotFound", "Specified VPC does not exist.")
    if vpc["Status"] != "Available":
        raise fail(400, "IncorrectVpcStatus", "The current status of the VPC does not support this operation.")
    zone = need(p, "ZoneId", "MissingParameter")
    if zone not in catalog.REGIONS[region]["zones"]:
        raise fail(404, "InvalidZoneId.NotFound", "The specified zone does not exist.")
    net = _cidr(p.get("CidrBlock"), "InvalidCidrBlock.Malformed")
    if not net.subnet_of(ipaddress.ip_network(vpc["CidrBlock"])):
        raise fail(400, "InvalidCidrBlock.Malformed", "The specified CidrBlock is not in the VPC's CIDR block.")
    if not 16 <= net.prefixlen <= 29:
        raise fail(400, "InvalidCirdrBlock.MaskLength", "The mask of the specified CidrBlock is invalid.")
    for other in state.vswitches.values():
        if other["VpcId"] == vpc["VpcId"] and net.overlaps(ipaddress.ip_network(other["CidrBlock"])):
            raise fail(400, "InvalidCidrBlock.Overlapped", "The specified CidrBlock overlaps another vSwitch's.")
    name = p.get("VSwitchName", "")
    if name and (len(name) > 128 or name.startswith(("http://", "https://"))):
        raise fail(400, "InvalidVSwitchName.Malformed", "Specified VSwitch name is not valid.")
    vsw_id = state.new_id("vsw")
    state.vswitches[vsw_id] = {
        "VSwitchId": vsw_id,
        "VpcId": vpc["VpcId"],
        "VSwitchName": name,
        "CidrBlock": str(net),
        "ZoneId": zone,
        "Description": p.get("Description", ""),
        "Status": "Pending" if state.state_polls else "Available",
        "_left": state.state_polls,
        "CreationTime": now_seconds(),
        "IsDefault": False,
        "AvailableIpAddressCount": net.num_addresses - 4,
        "OwnerId": 1234567890,
        "ResourceGroupId": "rg-acfmxazb4ph6aiy",
        "ShareType": "Sharing",
        "NetworkAclId": "",
        "RouteTable": {"RouteTableId": vpc["_route_table"], "RouteTableType": "System"},
        "_used": [],
    }
    return {"VSwitchId": vsw_id}


def describe_vswitches(state: AliState, p: Params) -> dict[str, Any]:
    _region(p)
    vsw_ids = {i.strip() for i in (p.get("VSwitchId") or "").split(",") if i.strip()}
    found = []
    for vsw in state.vswitches.values():
        if vsw_ids and vsw["VSwitchId"] not in vsw_ids:
            continue
        if p.get("VpcId") and vsw["VpcId"] != p["VpcId"]:
            continue
        if p.get("ZoneId") and vsw["ZoneId"] != p["ZoneId"]:
            continue
        entry = _public(state.settle(vsw))
        entry["AvailableIpAddressCount"] = ipaddress.ip_network(vsw["CidrBlock"]).num_addresses - 4 - len(vsw["_used"])
        found.append(entry)
    chunk, paging = state.page(p, found, default_size=10, max_size=50)
    return {"VSwitches": {"VSwitch": chunk}, **paging}


def delete_vswitch(state: AliState, p: Params) -> dict[str, Any]:
    _region(p)
    vsw_id = p.get("VSwitchId") or ""
    if vsw_id not in state.vswitches:
        raise fail(404, "InvalidVSwitchId.NotFound", "The specified VSwitch does not exist.")
    used = any(i["VpcAttributes"]["VSwitchId"] == vsw_id for i in state.instances.values()) or any(
        vsw_id in {z["VSwitchId"] for z in lb["ZoneMappings"]} for lb in state.lbs.values()
    )
    if used:
        raise fail(400, "DependencyViolation", "Specified object has dependent resources.")
    del state.vswitches[vsw_id]
    return {}


# ---------------------------------------------------------------- NLB
def nlb_describe_regions(state: AliState, p: Params) -> dict[str, Any]:
    return {
        "Regions": [
            {"RegionId": r, "LocalName": v["LocalName"], "RegionEndpoint": f"nlb.{r}.aliyuncs.com"}
            for r, v in catalog.REGIONS.items()
        ]
    }


def nlb_describe_zones(state: AliState, p: Params) -> dict[str, Any]:
    region = p.get("RegionId") or "cn-hangzhou"
    if region not in catalog.REGIONS:
        raise fail(400, "IllegalParam", "The param of RegionId is illegal.")
    return {"Zones": [{"ZoneId": z, "LocalName": z} for z in catalog.REGIONS[region]["zones"]]}


def _lb(state: AliState, lb_id: str | None) -> dict[str, Any]:
    lb = state.lbs.get(lb_id or "")
    if lb is None:
        raise fail(404, "ResourceNotFound.loadBalancer", f"The specified resource {lb_id} is not found.")
    return lb


def _group(state: AliState, group_id: str | None) -> dict[str, Any]:
    group = state.server_groups.get(group_id or "")
    if group is None:
        raise fail(404, "ResourceNotFound.serverGroup", f"The specified resource {group_id} is not found.")
    return group


def _listener(state: AliState, listener_id: str | None) -> dict[str, Any]:
    listener = state.listeners.get(listener_id or "")
    if listener is None:
        raise fail(404, "ResourceNotFound.listener", f"The specified resource {listener_id} is not found.")
    return listener


def create_load_balancer(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(p)
    vpc_id = need(p, "VpcId", "MissingParam.VpcId")
    if vpc_id not in state.vpcs:
        raise fail(404, "ResourceNotFound.Vpc", f"The specified resource {vpc_id} is not found.")
    mappings = [m for m in items(p, "ZoneMappings") if isinstance(m, dict)]
    zones = [m.get("ZoneId") for m in mappings]
    if len(set(zones)) != len(zones):
        raise fail(
            400, "OperationFailed.DuplicateZones.", "The operation failed because of Can not Specify duplicate zones."
        )
    if len(mappings) < 2:
        # NLB needs vSwitches in at least two zones (ZoneMappings: 2 to 10 entries)
        raise fail(400, "InvalidZones", "The current zone list is illegal.")
    address_type = p.get("AddressType") or "Internet"
    out_zones = []
    for m in mappings:
        vsw = state.vswitches.get(m.get("VSwitchId") or "")
        if vsw is None or vsw["VpcId"] != vpc_id:
            raise fail(404, "ResourceNotFound.VSwitch", f"The specified resource {m.get('VSwitchId')} is not found.")
        if vsw["Status"] != "Available":
            raise fail(400, "ResourceInConfiguring.VswitchId", f"The vSwitch {vsw['VSwitchId']} is being configured.")
        if vsw["ZoneId"] != m.get("ZoneId"):
            raise fail(400, "Mismatch.ZoneIdAndVswitchId", "The param of ZoneId and VSwitchId is mismatched.")
        address = {
            "PrivateIPv4Address": state.private_ip(vsw),
            "EniId": state.new_id("eni"),
            "PrivateIPv4HcStatus": "Healthy",
        }
        if address_type == "Internet":
            address["PublicIPv4Address"] = state.public_ip()
            address["AllocationId"] = state.new_id("eip")
        out_zones.append(
            {
                "VSwitchId": vsw["VSwitchId"],
                "ZoneId": vsw["ZoneId"],
                "Status": "Active",
                "LoadBalancerAddresses": [address],
            }
        )
    name = p.get("LoadBalancerName", "")
    if name and not (2 <= len(name) <= 128 and name[0].isalpha()):
        raise fail(400, "IllegalParam.loadBalancerName", "The param of loadBalancerName is illegal.")
    lb_id = state.new_id("nlb")
    failed = state.fail_next_lb
    state.fail_next_lb = False
    state.lbs[lb_id] = {
        "LoadBalancerId": lb_id,
        "LoadBalancerName": name,
        "LoadBalancerType": "Network",
        "RegionId": region,
        "AddressType": address_type,
        "AddressIpVersion": p.get("AddressIpVersion") or "ipv4",
        "LoadBalancerStatus": "Provisioning",
        "LoadBalancerBusinessStatus": "Normal",
        "VpcId": vpc_id,
        "CreateTime": now_seconds(),
        "ResourceGroupId": "rg-acfmxazb4ph6aiy",
        "CrossZoneEnabled": True,
        "DNSName": f"{lb_id}.{region}.nlb.aliyuncsslbintl.com",
        "ZoneMappings": out_zones,
        "LoadBalancerBillingConfig": {"PayType": "PostPay"},
        "OperationLocks": [],
        "SecurityGroupIds": [],
        "DeletionProtectionConfig": {"Enabled": False},
        "ModificationProtectionConfig": {"Status": "NonProtection"},
        "_final": "CreateFailed" if failed else "Active",
    }
    state.lb_left[lb_id] = state.lb_polls
    return {"LoadbalancerId": lb_id, "OrderId": 1234567890}


def _advance_lb(state: AliState, lb: dict[str, Any]) -> dict[str, Any]:
    left = state.lb_left.get(lb["LoadBalancerId"], 0)
    if left > 0:
        state.lb_left[lb["LoadBalancerId"]] = left - 1
    else:
        lb["LoadBalancerStatus"] = lb.get("_final", "Active")
    return lb


def get_load_balancer_attribute(state: AliState, p: Params) -> dict[str, Any]:
    lb = _advance_lb(state, _lb(state, p.get("LoadBalancerId")))
    out = _public(lb)
    out["Tags"] = []
    return out


def list_load_balancers(state: AliState, p: Params) -> dict[str, Any]:
    _region(p)
    ids = set(items(p, "LoadBalancerIds"))
    names = set(items(p, "LoadBalancerNames"))
    vpcs = set(items(p, "VpcIds"))
    found = [
        _public(_advance_lb(state, lb))
        for lb in state.lbs.values()
        if (not ids or lb["LoadBalancerId"] in ids)
        and (not names or lb["LoadBalancerName"] in names)
        and (not vpcs or lb["VpcId"] in vpcs)
    ]
    for lb in found:
        lb["Tags"] = []
    chunk, paging = state.token_page(p, found)
    return {"LoadBalancers": chunk, **paging}


def delete_load_balancer(state: AliState, p: Params) -> dict[str, Any]:
    lb = _lb(state, p.get("LoadBalancerId"))
    if lb["LoadBalancerStatus"] == "Provisioning" and state.lb_left.get(lb["LoadBalancerId"], 0) > 0:
        raise fail(400, "ResourceInCreating.loadbalancer", "The specified resource is being created.")
    for listener_id in [k for k, v in state.listeners.items() if v["LoadBalancerId"] == lb["LoadBalancerId"]]:
        del state.listeners[listener_id]
    for zone in lb["ZoneMappings"]:
        vsw = state.vswitches.get(zone["VSwitchId"])
        for address in zone["LoadBalancerAddresses"]:
            if vsw is not None and address["PrivateIPv4Address"] in vsw["_used"]:
                vsw["_used"].remove(address["PrivateIPv4Address"])
    del state.lbs[lb["LoadBalancerId"]]
    state.lb_left.pop(lb["LoadBalancerId"], None)
    return {"JobId": state.new_job()}


_HC_DEFAULTS: dict[str, Any] = {
    "HealthCheckEnabled": True,
    "HealthCheckType": "TCP",
    "HealthCheckConnectPort": 0,
    "HealthyThreshold": 2,
    "UnhealthyThreshold": 2,
    "HealthCheckConnectTimeout": 5,
    "HealthCheckInterval": 10,
    "HealthCheckUrl": "",
    "HealthCheckDomain": "",
    "HttpCheckMethod": "GET",
    "HealthCheckHttpCode": ["http_2xx"],
}


def _health_check(raw: dict[str, str], base: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in raw.items():
        if key not in _HC_DEFAULTS:
            continue
        default = _HC_DEFAULTS[key]
        if isinstance(default, bool):
            out[key] = as_bool(value, default)
        elif isinstance(default, int):
            out[key] = as_int(value, default)
        elif isinstance(default, list):
            out[key] = [value]
        else:
            out[key] = value
    if out["HealthCheckType"] not in ("TCP", "HTTP"):
        raise fail(400, "IllegalParam", "The param of HealthCheckType is illegal.")
    if (
        not (1 <= out["HealthCheckInterval"] <= 50)
        or not (2 <= out["HealthyThreshold"] <= 10)
        or not (2 <= out["UnhealthyThreshold"] <= 10)
        or not (1 <= out["HealthCheckConnectTimeout"] <= 300)
        or not (0 <= out["HealthCheckConnectPort"] <= 65535)
    ):
        raise fail(400, "IllegalParam", "The param of HealthCheckConfig is illegal.")
    return out


def create_server_group(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(p)
    vpc_id = need(p, "VpcId", "MissingParam.VpcId")
    if vpc_id not in state.vpcs:
        raise fail(404, "ResourceNotFound.Vpc", f"The specified resource {vpc_id} is not found.")
    name = need(p, "ServerGroupName", "MissingParam.ServerGroupName")
    if not (2 <= len(name) <= 128 and name[0].isalpha()):
        raise fail(400, "IllegalParam.ServerGroupName", "The param of ServerGroupName is illegal.")
    protocol = p.get("Protocol") or "TCP"
    if protocol not in ("TCP", "UDP", "TCPSSL"):
        raise fail(400, "IllegalParam", "The param of Protocol is illegal.")
    group_id = state.new_id("sgp")
    state.server_groups[group_id] = {
        "ServerGroupId": group_id,
        "ServerGroupName": name,
        "ServerGroupType": p.get("ServerGroupType") or "Instance",
        "AddressIPVersion": "ipv4",
        "VpcId": vpc_id,
        "Scheduler": p.get("Scheduler") or "Wrr",
        "Protocol": protocol,
        "HealthCheck": _health_check(sub(p, "HealthCheckConfig"), _HC_DEFAULTS),
        "ConnectionDrainEnabled": False,
        "ConnectionDrainTimeout": 10,
        "PreserveClientIpEnabled": True,
        "AnyPortEnabled": False,
        "ResourceGroupId": "rg-acfmxazb4ph6aiy",
        "ServerGroupStatus": "Available",
        "AliUid": 1234567890,
        "RegionId": region,
    }
    state.servers[group_id] = []
    return {"ServerGroupId": group_id, "JobId": state.new_job()}


def list_server_groups(state: AliState, p: Params) -> dict[str, Any]:
    _region(p)
    ids = set(items(p, "ServerGroupIds"))
    names = set(items(p, "ServerGroupNames"))
    found = []
    for g in state.server_groups.values():
        if (ids and g["ServerGroupId"] not in ids) or (names and g["ServerGroupName"] not in names):
            continue
        if p.get("VpcId") and g["VpcId"] != p["VpcId"]:
            continue
        entry = _public(g)
        entry["ServerCount"] = len(state.servers[g["ServerGroupId"]])
        entry["RelatedLoadBalancerIds"] = sorted(
            {ln["LoadBalancerId"] for ln in state.listeners.values() if ln["ServerGroupId"] == g["ServerGroupId"]}
        )
        entry["Tags"] = []
        found.append(entry)
    chunk, paging = state.token_page(p, found)
    return {"ServerGroups": chunk, **paging}


def update_server_group_attribute(state: AliState, p: Params) -> dict[str, Any]:
    group = _group(state, p.get("ServerGroupId"))
    if p.get("ServerGroupName"):
        group["ServerGroupName"] = p["ServerGroupName"]
    raw = sub(p, "HealthCheckConfig")
    if raw:
        group["HealthCheck"] = _health_check(raw, group["HealthCheck"])
    return {"ServerGroupId": group["ServerGroupId"], "JobId": state.new_job()}


def _server_inputs(p: Params) -> list[dict[str, str]]:
    servers = [s for s in items(p, "Servers") if isinstance(s, dict)]
    if not servers:
        raise fail(400, "MissingParam.Servers", "The param of Servers is missing.")
    return servers


def add_servers(state: AliState, p: Params) -> dict[str, Any]:
    group = _group(state, p.get("ServerGroupId"))
    have = state.servers[group["ServerGroupId"]]
    for raw in _server_inputs(p):
        server_id = raw.get("ServerId", "")
        port = as_int(raw.get("Port"), 0)
        inst = state.instances.get(server_id)
        if raw.get("ServerType") == "Ecs" and inst is None:
            raise fail(404, "ResourceNotFound.Ecs", f"The specified resource {server_id} is not found.")
        if inst is not None and inst["VpcAttributes"]["VpcId"] != group["VpcId"]:
            raise fail(400, "Mismatch.VpcId", "The VpcId of the server and the server group do not match.")
        if any(s["ServerId"] == server_id and s["Port"] == port for s in have):
            raise fail(400, "DuplicatedParam.Server", "The param of Server is duplicated.")
        have.append(
            {
                "ServerId": server_id,
                "ServerType": raw.get("ServerType") or "Ecs",
                "Port": port,
                "Weight": as_int(raw.get("Weight"), 100),
                "ServerGroupId": group["ServerGroupId"],
                "ServerIp": inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0] if inst else "",
                "ZoneId": inst["ZoneId"] if inst else "",
                "Description": raw.get("Description", ""),
                "Status": "Available",
            }
        )
    return {"ServerGroupId": group["ServerGroupId"], "JobId": state.new_job()}


def remove_servers(state: AliState, p: Params) -> dict[str, Any]:
    group = _group(state, p.get("ServerGroupId"))
    have = state.servers[group["ServerGroupId"]]
    gone = [(s.get("ServerId", ""), as_int(s.get("Port"), 0)) for s in _server_inputs(p)]
    for server_id, port in gone:
        if not any(s["ServerId"] == server_id and s["Port"] == port for s in have):
            raise fail(404, "ResourceNotFound.BackendServer", f"The specified resource {server_id} is not found.")
    have[:] = [s for s in have if (s["ServerId"], s["Port"]) not in gone]
    return {"ServerGroupId": group["ServerGroupId"], "JobId": state.new_job()}


def update_servers(state: AliState, p: Params) -> dict[str, Any]:
    group = _group(state, p.get("ServerGroupId"))
    have = state.servers[group["ServerGroupId"]]
    for raw in _server_inputs(p):
        match = [s for s in have if s["ServerId"] == raw.get("ServerId")]
        if not match:
            raise fail(
                404, "ResourceNotFound.BackendServer", f"The specified resource {raw.get('ServerId')} is not found."
            )
        for server in match:
            if raw.get("Weight"):
                server["Weight"] = as_int(raw["Weight"], 100)
            if raw.get("Description"):
                server["Description"] = raw["Description"]
    return {"ServerGroupId": group["ServerGroupId"], "JobId": state.new_job()}


def list_server_group_servers(state: AliState, p: Params) -> dict[str, Any]:
    group = _group(state, p.get("ServerGroupId"))
    ids = set(items(p, "ServerIds"))
    found = [dict(s) for s in state.servers[group["ServerGroupId"]] if not ids or s["ServerId"] in ids]
    chunk, paging = state.token_page(p, found)
    return {"Servers": chunk, **paging}


def delete_server_group(state: AliState, p: Params) -> dict[str, Any]:
    group = _group(state, p.get("ServerGroupId"))
    if any(ln["ServerGroupId"] == group["ServerGroupId"] for ln in state.listeners.values()):
        raise fail(400, "ResourceInUse.ServerGroup", "The specified resource of ServerGroup is in use.")
    del state.server_groups[group["ServerGroupId"]]
    del state.servers[group["ServerGroupId"]]
    return {"JobId": state.new_job()}


def create_listener(state: AliState, p: Params) -> dict[str, Any]:
    region = _region(p)
    lb = _lb(state, need(p, "LoadBalancerId", "MissingParam.LoadBalancerId"))
    if lb["LoadBalancerStatus"] != "Active":
        raise fail(
            400, "IncorrectStatus.loadbalancer", f"The status of loadbalancer [{lb['LoadBalancerId']}] is incorrect."
        )
    protocol = need(p, "ListenerProtocol", "MissingParam.ListenerProtocol")
    if protocol not in ("TCP", "UDP", "TCPSSL"):
        raise fail(400, "IllegalParam", "The param of ListenerProtocol is illegal.")
    port = as_int(p.get("ListenerPort"), -1)
    if not 0 <= port <= 65535:
        raise fail(400, "IllegalParam.Port", "The param of Port is illegal.")
    group = state.server_groups.get(need(p, "ServerGroupId", "MissingParam.ServerGroupId"))
    if group is None:
        raise fail(404, "ResourceNotFound.serverGroup", f"The specified resource {p['ServerGroupId']} is not found.")
    if group["VpcId"] != lb["VpcId"]:
        raise fail(400, "Mismatch.VpcId", "The VpcId of the server group and the load balancer do not match.")
    if group["Protocol"] != protocol:
        raise fail(400, "Mismatch.Protocol", "The protocol of the listener and the server group do not match.")
    for other in state.listeners.values():
        same_family = (other["ListenerProtocol"] == "UDP") == (protocol == "UDP")
        if other["LoadBalancerId"] == lb["LoadBalancerId"] and other["ListenerPort"] == port and same_family:
            raise fail(400, "Conflict.Port", f"The Port [{port}] is conflict.")
    listener_id = state.new_id("lsn")
    state.listeners[listener_id] = {
        "ListenerId": listener_id,
        "LoadBalancerId": lb["LoadBalancerId"],
        "ListenerProtocol": protocol,
        "ListenerPort": port,
        "ServerGroupId": group["ServerGroupId"],
        "RegionId": region,
        "ListenerDescription": p.get("ListenerDescription", ""),
        "IdleTimeout": as_int(p.get("IdleTimeout"), 900),
        "ListenerStatus": "Running",
        "ProxyProtocolEnabled": False,
        "SecSensorEnabled": False,
        "CertificateIds": [],
        "CaCertificateIds": [],
        "CaEnabled": False,
        "AlpnEnabled": False,
        "Cps": 0,
        "Mss": 0,
    }
    return {"ListenerId": listener_id, "JobId": state.new_job()}


def list_listeners(state: AliState, p: Params) -> dict[str, Any]:
    _region(p)
    ids = set(items(p, "ListenerIds"))
    lbs = set(items(p, "LoadBalancerIds"))
    found = [
        dict(ln, Tags=[])
        for ln in state.listeners.values()
        if (not ids or ln["ListenerId"] in ids) and (not lbs or ln["LoadBalancerId"] in lbs)
    ]
    chunk, paging = state.token_page(p, found)
    return {"Listeners": chunk, **paging}


def get_listener_attribute(state: AliState, p: Params) -> dict[str, Any]:
    return dict(_listener(state, p.get("ListenerId")), Tags=[])


def update_listener_attribute(state: AliState, p: Params) -> dict[str, Any]:
    listener = _listener(state, p.get("ListenerId"))
    if p.get("ServerGroupId"):
        group = state.server_groups.get(p["ServerGroupId"])
        if group is None:
            raise fail(400, "IllegalParam", "The param of ServerGroupId is illegal.")
        listener["ServerGroupId"] = group["ServerGroupId"]
    if p.get("ListenerDescription"):
        listener["ListenerDescription"] = p["ListenerDescription"]
    return {"JobId": state.new_job()}


def delete_listener(state: AliState, p: Params) -> dict[str, Any]:
    listener = _listener(state, p.get("ListenerId"))
    del state.listeners[listener["ListenerId"]]
    return {"JobId": state.new_job()}


def _listener_switch(status: str) -> Any:
    def handler(state: AliState, p: Params) -> dict[str, Any]:
        _listener(state, p.get("ListenerId"))["ListenerStatus"] = status
        return {"JobId": state.new_job()}

    return handler


def get_listener_health_status(state: AliState, p: Params) -> dict[str, Any]:
    listener = _listener(state, p.get("ListenerId"))
    group = state.server_groups[listener["ServerGroupId"]]
    enabled = group["HealthCheck"]["HealthCheckEnabled"]
    bad = []
    for server in state.servers[group["ServerGroupId"]]:
        inst = state.instances.get(server["ServerId"])
        if not enabled:
            status = "Unavailable"
        elif server["Weight"] == 0:
            status = "Unused"
        elif inst is None or inst["Status"] != "Running":
            status = "Unhealthy"
        else:
            continue  # healthy servers are not listed: only the non-normal ones are
        bad.append(
            {
                "ServerId": server["ServerId"],
                "ServerIp": server["ServerIp"],
                "Port": server["Port"],
                "Status": status,
                "Reason": {"ReasonCode": "CONNECT_TIMEOUT"} if status == "Unhealthy" else {},
            }
        )
    info = {
        "ListenerId": listener["ListenerId"],
        "ListenerPort": listener["ListenerPort"],
        "ListenerProtocol": listener["ListenerProtocol"],
        "ServerGroupInfos": [
            {"ServerGroupId": group["ServerGroupId"], "HeathCheckEnabled": enabled, "NonNormalServers": bad}
        ],
    }
    return {"ListenerHealthStatus": [info], "TotalCount": 1, "MaxResults": as_int(p.get("MaxResults"), 20)}


def get_job_status(state: AliState, p: Params) -> dict[str, Any]:
    job = p.get("JobId") or ""
    if job not in state.jobs:
        raise fail(404, "ResourceNotFound.JobId", f"The specified resource {job} is not found.")
    left = state.jobs[job]
    if left > 0:
        state.jobs[job] = left - 1
        return {"Status": "Processing"}
    return {"Status": "Failed" if job in state.failed_jobs else "Succeeded"}


def add_net_routes(t: RouteTable, state: AliState, bind: Any) -> None:
    for action, fn in {
        "DescribeRegions": vpc_describe_regions,
        "DescribeZones": vpc_describe_zones,
        "CreateVpc": create_vpc,
        "DescribeVpcs": describe_vpcs,
        "DeleteVpc": delete_vpc,
        "CreateVSwitch": create_vswitch,
        "DescribeVSwitches": describe_vswitches,
        "DeleteVSwitch": delete_vswitch,
    }.items():
        bind(t, "vpc", action, fn)
    for action, fn in {
        "DescribeRegions": nlb_describe_regions,
        "DescribeZones": nlb_describe_zones,
        "CreateLoadBalancer": create_load_balancer,
        "GetLoadBalancerAttribute": get_load_balancer_attribute,
        "ListLoadBalancers": list_load_balancers,
        "DeleteLoadBalancer": delete_load_balancer,
        "CreateServerGroup": create_server_group,
        "ListServerGroups": list_server_groups,
        "UpdateServerGroupAttribute": update_server_group_attribute,
        "AddServersToServerGroup": add_servers,
        "RemoveServersFromServerGroup": remove_servers,
        "UpdateServerGroupServersAttribute": update_servers,
        "ListServerGroupServers": list_server_group_servers,
        "DeleteServerGroup": delete_server_group,
        "CreateListener": create_listener,
        "ListListeners": list_listeners,
        "GetListenerAttribute": get_listener_attribute,
        "UpdateListenerAttribute": update_listener_attribute,
        "DeleteListener": delete_listener,
        "StartListener": _listener_switch("Running"),
        "StopListener": _listener_switch("Stopped"),
        "GetListenerHealthStatus": get_listener_health_status,
        "GetJobStatus": get_job_status,
    }.items():
        bind(t, "nlb", action, fn)
