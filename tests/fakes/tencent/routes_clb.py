"""CLB service actions: load balancers, layer-4 listeners with their health check, targets,
target health, and the asynchronous task every write starts (DescribeTaskStatus)."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.fakes.tencent.state import ApiError, Call, Task, TencentState, filtered, now, page

Actions = dict[tuple[str, str], Any]
NAME_MAX = 60
LAYER4 = ("TCP", "UDP")
#: CheckType values a layer-4 listener takes (UDP: PING or CUSTOM)
CHECK_TYPES = {"TCP": ("TCP", "HTTP", "CUSTOM"), "UDP": ("PING", "CUSTOM", "PORT")}


def add_clb_actions(actions: Actions, state: TencentState) -> None:
    def act(name: str) -> Any:
        def deco(fn: Any) -> Any:
            actions[("clb", name)] = fn
            return fn

        return deco

    def _task(call: Call, lb_id: str, on_success: Any = None) -> None:
        """Start the async task of a write; the client polls DescribeTaskStatus(TaskId=RequestId)."""
        task = Task(lb_id, left=state.polls, fail=state.take_failure(call.action), on_success=on_success)
        state.tasks[call.request_id] = task
        if task.left <= 0:
            _settle(call.region.load_balancers, task)

    def _settle(lbs: dict[str, Any], task: Task) -> None:
        task.done = True
        lb = lbs.get(task.load_balancer_id)
        if task.fail is None and task.on_success is not None:
            task.on_success()
        elif lb is not None and lb["Status"] == 0 and task.fail is not None:
            lb["Status"] = 1  # a failed create leaves nothing behind...
            lbs.pop(task.load_balancer_id, None)  # ...as the console shows it: the LB never appears
        if lb is not None and task.load_balancer_id in lbs:
            lb["Status"] = 1

    def _lb(call: Call, lb_id: str, *, writable: bool = True) -> dict[str, Any]:
        lb = call.region.load_balancers.get(lb_id)
        if lb is None:
            raise ApiError("InvalidParameter.LBIdNotFound", f"The load balancer `{lb_id}` does not exist")
        if writable and any(not t.done and t.load_balancer_id == lb_id for t in state.tasks.values()):
            raise ApiError("FailedOperation.ResourceInOperating", f"The load balancer `{lb_id}` is busy with a task")
        return lb

    def _listener(call: Call, lb_id: str, listener_id: str) -> dict[str, Any]:
        for lst in call.region.listeners.get(lb_id, []):
            if lst["ListenerId"] == listener_id:
                return lst
        raise ApiError("InvalidParameter.ListenerIdNotFound", f"The listener `{listener_id}` does not exist")

    # ------------------------------------------------------------ tasks
    @act("DescribeTaskStatus")
    def describe_task(call: Call) -> dict[str, Any]:
        task = state.tasks.get(call.require("TaskId"))
        if task is None:
            raise ApiError("InvalidParameter", "The task does not exist")
        if not task.done:
            if task.left > 0:
                task.left -= 1
            else:
                _settle(call.region.load_balancers, task)
        status = 2 if not task.done else (1 if task.fail else 0)
        return {"Status": status, "LoadBalancerIds": [task.load_balancer_id], "Message": task.fail or ""}

    # ------------------------------------------------------------ load balancers
    @act("CreateLoadBalancer")
    def create_lb(call: Call) -> dict[str, Any]:
        region = call.region
        lb_type = call.require("LoadBalancerType")
        if lb_type not in ("OPEN", "INTERNAL"):
            raise ApiError("InvalidParameterValue", f"LoadBalancerType `{lb_type}` is not OPEN or INTERNAL")
        name = str(call.get("LoadBalancerName") or "")
        if len(name) > NAME_MAX:
            raise ApiError("InvalidParameterValue.Length", f"LoadBalancerName is longer than {NAME_MAX} characters")
        vpc_id = call.get("VpcId") or ""
        if vpc_id not in region.vpcs:
            raise ApiError("InvalidParameterValue", f"The VPC `{vpc_id}` does not exist")
        subnet_id = call.get("SubnetId") or ""
        if lb_type == "INTERNAL":
            subnet = region.subnets.get(subnet_id)
            if subnet is None or subnet["VpcId"] != vpc_id:
                raise ApiError("InvalidParameterValue", "An INTERNAL load balancer needs a subnet of its VPC")
            vip = _internal_vip(call, subnet)
        else:
            if subnet_id:
                raise ApiError("InvalidParameterCombination", "SubnetId is for INTERNAL load balancers only")
            vip = state.public_ip()
        lb_id = state.new_id("lb")
        lb = {
            "LoadBalancerId": lb_id,
            "LoadBalancerName": name or lb_id,
            "LoadBalancerType": lb_type,
            "Forward": int(call.get("Forward", 1)),
            "Domain": f"{lb_id}.clb.{region.name}.tencentclb.com" if lb_type == "OPEN" else "",
            "LoadBalancerVips": [vip],
            "Status": 0,
            "CreateTime": now(),
            "StatusTime": now(),
            "ProjectId": int(call.get("ProjectId") or 0),
            "VpcId": vpc_id,
            "OpenBgp": 0,
            "Snat": False,
            "Isolation": 0,
            "SubnetId": subnet_id,
            "Tags": [],
            "SecureGroups": [],
            "TargetRegionInfo": {"Region": region.name, "VpcId": vpc_id, "NumericalVpcId": 0},
            "AnycastZone": "",
            "AddressIPVersion": "ipv4",
            "NumericalVpcId": 0,
            "VipIsp": "BGP" if lb_type == "OPEN" else None,
            "MasterZone": None,
            "BackupZoneSet": None,
            "IsolatedTime": None,
            "ExpireTime": None,
            "ChargeType": "POSTPAID_BY_HOUR",
            "NetworkAttributes": None,
            "PrepaidAttributes": None,
            "LogSetId": "",
            "LogTopicId": "",
            "AddressIPv6": None,
            "ExtraInfo": None,
            "IsDDos": False,
            "ConfigId": "",
            "LoadBalancerPassToTarget": True,
            "ExclusiveCluster": {"L4Clusters": [], "L7Clusters": [],
                                 "ClassicalCluster": {"ClusterId": "", "ClusterName": "", "Zone": None}},
            "IPv6Mode": None,
            "SnatPro": False,
            "SnatIps": [],
            "SlaType": "shared",
            "IsBlock": False,
            "IsBlockTime": "",
            "LocalBgp": False,
            "ClusterTag": None,
            "MixIpTarget": False,
            "Zones": None,
            "NfvInfo": None,
            "HealthLogSetId": "",
            "HealthLogTopicId": "",
            "ClusterIds": None,
            "AttributeFlags": [],
            "LoadBalancerDomain": f"{lb_id}.clb.{region.name}.tencentclb.com" if lb_type == "OPEN" else "",
            "Egress": "",
        }
        region.load_balancers[lb_id] = lb
        region.listeners[lb_id] = []
        _task(call, lb_id)
        return {"LoadBalancerIds": [lb_id], "DealName": f"2026{state.new_id('deal')[5:]}"}

    @act("DescribeLoadBalancers")
    def describe_lbs(call: Call) -> dict[str, Any]:
        items = list(call.region.load_balancers.values())
        ids = call.get("LoadBalancerIds")
        if ids:
            items = [lb for lb in items if lb["LoadBalancerId"] in ids]
        for key in ("LoadBalancerType", "LoadBalancerName", "VpcId"):
            if call.get(key):
                items = [lb for lb in items if lb[key] == call.get(key)]
        items = filtered(call, items, {"loadbalancer-id": lambda lb: lb["LoadBalancerId"],
                                       "vpc-id": lambda lb: lb["VpcId"]})
        total, items = page(call, items, state.page_size)
        return {"TotalCount": total, "LoadBalancerSet": items}

    @act("DeleteLoadBalancer")
    def delete_lb(call: Call) -> dict[str, Any]:
        ids = call.require("LoadBalancerIds")
        for lb_id in ids:
            _lb(call, lb_id)

        def drop() -> None:
            for lb_id in ids:
                call.region.load_balancers.pop(lb_id, None)
                for lst in call.region.listeners.pop(lb_id, []):
                    call.region.targets.pop(lst["ListenerId"], None)

        _task(call, ids[0], drop)
        return {}

    # ------------------------------------------------------------ listeners
    @act("CreateListener")
    def create_listener(call: Call) -> dict[str, Any]:
        lb_id = call.require("LoadBalancerId")
        _lb(call, lb_id)
        protocol = call.require("Protocol")
        if protocol not in (*LAYER4, "HTTP", "HTTPS", "TCP_SSL", "QUIC"):
            raise ApiError("InvalidParameter.ProtocolCheckFailed", f"Protocol `{protocol}` is not valid")
        if protocol not in LAYER4:
            raise ApiError("UnsupportedOperation", "The fake serves layer-4 (TCP/UDP) listeners only")
        ports = call.require("Ports")
        names = call.get("ListenerNames") or []
        for port in ports:
            if not 1 <= port <= 65535:
                raise ApiError("InvalidParameter.PortCheckFailed", f"Port {port} is not in 1..65535")
            if any(lst["Port"] == port and lst["Protocol"] == protocol for lst in call.region.listeners[lb_id]):
                raise ApiError("InvalidParameter.PortCheckFailed", f"A {protocol} listener on port {port} exists")
        health = _health_check(protocol, call.get("HealthCheck") or {})
        created = []
        for i, port in enumerate(ports):
            lst = {
                "ListenerId": state.new_id("lbl"),
                "Protocol": protocol,
                "Port": port,
                "Certificate": None,
                "HealthCheck": health,
                "Scheduler": call.get("Scheduler") or "WRR",
                "SessionExpireTime": int(call.get("SessionExpireTime") or 0),
                "SniSwitch": 0,
                "Rules": None,
                "ListenerName": names[i] if i < len(names) else f"{protocol}-{port}",
                "CreateTime": now(),
                "EndPort": 0,
                "TargetType": "NODE",
                "TargetGroup": None,
                "SessionType": "NORMAL",
                "KeepaliveEnable": None,
                "Toa": False,
                "DeregisterTargetRst": False,
                "AttrFlags": [],
                "TargetGroupList": None,
                "MaxConn": -1,
                "MaxCps": -1,
                "IdleConnectTimeout": None,
            }
            created.append(lst)

        def add() -> None:
            call.region.listeners.setdefault(lb_id, []).extend(created)
            for lst in created:
                call.region.targets[lst["ListenerId"]] = []

        _task(call, lb_id, add)
        return {"ListenerIds": [lst["ListenerId"] for lst in created]}

    @act("DescribeListeners")
    def describe_listeners(call: Call) -> dict[str, Any]:
        lb_id = call.require("LoadBalancerId")
        _lb(call, lb_id, writable=False)
        items = call.region.listeners.get(lb_id, [])
        if call.get("ListenerIds"):
            items = [lst for lst in items if lst["ListenerId"] in call.get("ListenerIds")]
        if call.get("Protocol"):
            items = [lst for lst in items if lst["Protocol"] == call.get("Protocol")]
        if call.get("Port"):
            items = [lst for lst in items if lst["Port"] == call.get("Port")]
        return {"Listeners": items, "TotalCount": len(items)}

    @act("DeleteListener")
    def delete_listener(call: Call) -> dict[str, Any]:
        lb_id = call.require("LoadBalancerId")
        _lb(call, lb_id)
        lst = _listener(call, lb_id, call.require("ListenerId"))

        def drop() -> None:
            call.region.listeners[lb_id].remove(lst)
            call.region.targets.pop(lst["ListenerId"], None)

        _task(call, lb_id, drop)
        return {}

    @act("ModifyListener")
    def modify_listener(call: Call) -> dict[str, Any]:
        lb_id = call.require("LoadBalancerId")
        _lb(call, lb_id)
        lst = _listener(call, lb_id, call.require("ListenerId"))
        changes: dict[str, Any] = {}
        if call.get("ListenerName") is not None:
            changes["ListenerName"] = call.get("ListenerName")
        if call.get("HealthCheck") is not None:
            merged = {k: v for k, v in (lst["HealthCheck"] or {}).items() if v is not None}
            changes["HealthCheck"] = _health_check(lst["Protocol"], {**merged, **call.get("HealthCheck")})
        if call.get("Scheduler") is not None:
            changes["Scheduler"] = call.get("Scheduler")
        _task(call, lb_id, lambda: lst.update(changes))
        return {}

    # ------------------------------------------------------------ targets
    def _target_request(call: Call) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        lb_id = call.require("LoadBalancerId")
        lb = _lb(call, lb_id)
        lst = _listener(call, lb_id, call.require("ListenerId"))
        targets = call.require("Targets")
        for t in targets:
            inst = call.region.instances.get(t.get("InstanceId", ""))
            if inst is None:
                raise ApiError("InvalidParameter", f"The instance `{t.get('InstanceId')}` does not exist")
            if inst["VirtualPrivateCloud"]["VpcId"] != lb["VpcId"]:
                raise ApiError("UnsupportedOperation.VPCMismatch", "The instance is not in the load balancer's VPC")
            if not 1 <= t["Port"] <= 65535:
                raise ApiError("InvalidParameter.PortCheckFailed", f"Port {t['Port']} is not in 1..65535")
        return lb_id, lst, targets

    @act("RegisterTargets")
    def register_targets(call: Call) -> dict[str, Any]:
        lb_id, lst, targets = _target_request(call)
        have = call.region.targets[lst["ListenerId"]]
        for t in targets:
            if any((h["InstanceId"], h["Port"]) == (t["InstanceId"], t["Port"]) for h in have):
                raise ApiError("InvalidParameterValue.Duplicate", f"{t['InstanceId']}:{t['Port']} is registered")
        rows = [{"InstanceId": t["InstanceId"], "Port": t["Port"], "Weight": int(t.get("Weight", 10)),
                 "RegisteredTime": now()} for t in targets]
        _task(call, lb_id, lambda: have.extend(rows))
        return {}

    @act("DeregisterTargets")
    def deregister_targets(call: Call) -> dict[str, Any]:
        lb_id, lst, targets = _target_request(call)
        have = call.region.targets[lst["ListenerId"]]
        keys = {(t["InstanceId"], t["Port"]) for t in targets}
        missing = keys - {(h["InstanceId"], h["Port"]) for h in have}
        if missing:
            raise ApiError("InvalidParameter", f"Not registered: {sorted(missing)[0]}")
        _task(call, lb_id, lambda: have.__setitem__(slice(None), [h for h in have
                                                                   if (h["InstanceId"], h["Port"]) not in keys]))
        return {}

    @act("DescribeTargets")
    def describe_targets(call: Call) -> dict[str, Any]:
        lb_id = call.require("LoadBalancerId")
        _lb(call, lb_id, writable=False)
        out = []
        for lst in call.region.listeners.get(lb_id, []):
            if call.get("ListenerIds") and lst["ListenerId"] not in call.get("ListenerIds"):
                continue
            backends = []
            for t in call.region.targets.get(lst["ListenerId"], []):
                inst = call.region.instances.get(t["InstanceId"], {})
                backends.append({
                    "Type": "CVM",
                    "InstanceId": t["InstanceId"],
                    "Port": t["Port"],
                    "Weight": t["Weight"],
                    "PublicIpAddresses": inst.get("PublicIpAddresses"),
                    "PrivateIpAddresses": inst.get("PrivateIpAddresses", []),
                    "InstanceName": inst.get("InstanceName"),
                    "RegisteredTime": t["RegisteredTime"],
                    "EniId": None,
                    "Zone": inst.get("Placement", {}).get("Zone"),
                })
            out.append({"ListenerId": lst["ListenerId"], "Protocol": lst["Protocol"], "Port": lst["Port"],
                        "Rules": [], "Targets": backends, "EndPort": 0})
        return {"Listeners": out}

    @act("DescribeTargetHealth")
    def describe_health(call: Call) -> dict[str, Any]:
        out = []
        for lb_id in call.require("LoadBalancerIds"):
            lb = _lb(call, lb_id, writable=False)
            listeners = []
            for lst in call.region.listeners.get(lb_id, []):
                rows = []
                for t in call.region.targets.get(lst["ListenerId"], []):
                    inst = call.region.instances.get(t["InstanceId"], {})
                    checked = bool((lst["HealthCheck"] or {}).get("HealthSwitch"))
                    alive = inst.get("InstanceState") == "RUNNING" and checked
                    detail = "Alive" if alive else "Dead"
                    # both spellings, as the API still sends the deprecated misspelt one
                    rows.append({"IP": (inst.get("PrivateIpAddresses") or [""])[0], "Port": t["Port"],
                                 "HealthStatus": alive, "TargetId": t["InstanceId"],
                                 "HealthStatusDetail": detail, "HealthStatusDetial": detail})
                listeners.append({"ListenerId": lst["ListenerId"], "ListenerName": lst["ListenerName"],
                                  "Protocol": lst["Protocol"], "Port": lst["Port"],
                                  "Rules": [{"LocationId": "loc-" + lst["ListenerId"][4:], "Domain": None,
                                             "Url": None, "Targets": rows}]})
            out.append({"LoadBalancerId": lb_id, "LoadBalancerName": lb["LoadBalancerName"], "Listeners": listeners})
        return {"LoadBalancers": out}


def _health_check(protocol: str, hc: dict[str, Any]) -> dict[str, Any]:
    """The listener's health check as the API stores it, with its documented ranges checked."""
    check_type = hc.get("CheckType") or ("TCP" if protocol == "TCP" else "PING")
    if check_type not in CHECK_TYPES[protocol]:
        raise ApiError("InvalidParameterValue", f"CheckType `{check_type}` is not valid for {protocol}")
    out = {
        "HealthSwitch": int(hc.get("HealthSwitch", 1)),
        "TimeOut": int(hc.get("TimeOut", 2)),
        "IntervalTime": int(hc.get("IntervalTime", 5)),
        "HealthNum": int(hc.get("HealthNum", 3)),
        "UnHealthNum": int(hc.get("UnHealthNum", 3)),
        "HttpCode": hc.get("HttpCode"),
        "HttpCheckPath": hc.get("HttpCheckPath"),
        "HttpCheckDomain": hc.get("HttpCheckDomain"),
        "HttpCheckMethod": hc.get("HttpCheckMethod"),
        "CheckPort": hc.get("CheckPort"),
        "ContextType": hc.get("ContextType"),
        "SendContext": hc.get("SendContext"),
        "RecvContext": hc.get("RecvContext"),
        "CheckType": check_type,
        "HttpVersion": hc.get("HttpVersion"),
        "SourceIpType": int(hc.get("SourceIpType", 0)),
        "ExtendedCode": hc.get("ExtendedCode"),
    }
    if not 2 <= out["TimeOut"] <= 60:
        raise ApiError("InvalidParameterValue.Range", "TimeOut must be in 2..60")
    if not 2 <= out["IntervalTime"] <= 300:
        raise ApiError("InvalidParameterValue.Range", "IntervalTime must be in 2..300")
    if out["TimeOut"] > out["IntervalTime"]:
        raise ApiError("InvalidParameterValue.Range", "TimeOut must not exceed IntervalTime")
    for key in ("HealthNum", "UnHealthNum"):
        if not 2 <= out[key] <= 10:
            raise ApiError("InvalidParameterValue.Range", f"{key} must be in 2..10")
    if check_type == "HTTP":
        out["HttpCheckPath"] = out["HttpCheckPath"] or "/"
        out["HttpCode"] = out["HttpCode"] or 31
        out["HttpCheckMethod"] = out["HttpCheckMethod"] or "HEAD"
        out["HttpVersion"] = out["HttpVersion"] or "HTTP/1.1"
    if out["CheckPort"] is not None and not 1 <= int(out["CheckPort"]) <= 65535:
        raise ApiError("InvalidParameterValue.Range", "CheckPort must be in 1..65535")
    return out


def _internal_vip(call: Call, subnet: dict[str, Any]) -> str:
    used = {ip for i in call.region.instances.values() for ip in i["PrivateIpAddresses"]}
    used |= {vip for lb in call.region.load_balancers.values() for vip in lb["LoadBalancerVips"]}
    net = ipaddress.ip_network(subnet["CidrBlock"])
    hosts = list(net.hosts())
    for host in reversed(hosts[1:]):  # VIPs from the top of the range, instances from the bottom
        if str(host) not in used:
            return str(host)
    raise ApiError("ResourceInsufficient", "The subnet has no free address")
