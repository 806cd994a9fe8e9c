"""NLBs = CLB instances (CLB API 2018-03-17) with one layer-4 listener (TCP or UDP).

- PUBLIC -> ``LoadBalancerType=OPEN``, INTERNAL -> ``INTERNAL`` in the VPC's first subnet.
- The health check lives on the listener (``HealthCheck``: TCP, or HTTP for a TCP listener;
  a UDP listener probes the port, ``CheckType=PORT``). ``threshold`` sets both HealthNum and
  UnHealthNum.
- VM group members are targets (``RegisterTargets``/``DeregisterTargets``) on the listener,
  each with the group's port; the group's port is also kept in the listener's name
  (``mcinfra_vmgroup_<port>``) so that a group with no members still has one.
- Every CLB write is asynchronous: the client waits for its task (``DescribeTaskStatus``).
- A listener's port and protocol cannot be modified: ``change_listener`` makes a new listener,
  moves the targets, then deletes the old one.
"""

from __future__ import annotations

import re
from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError, InvalidRequest, NotFound, Unsupported
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.drivers.kit import Rollback, describe_one
from mcinfra.drivers.tencent.client import PROVIDER, TencentClient

GROUP_NAME = re.compile(r"^mcinfra_vmgroup_(\d+)$")
TYPE = {"PUBLIC": "OPEN", "INTERNAL": "INTERNAL"}
#: HealthCheck ranges the CLB API documents (seconds / counts)
RANGES = {"interval": (2, 300), "timeout": (2, 60), "threshold": (2, 10)}
TARGET_WEIGHT = 10


def group_name(port: int) -> str:
    return f"mcinfra_vmgroup_{port}"


def health_check(hc: HealthChecker, listener_protocol: str) -> dict[str, Any]:
    """The listener's HealthCheck for a health checker (ranges checked before any call)."""
    for field, (low, high) in RANGES.items():
        value = getattr(hc, field)
        if not low <= value <= high:
            raise InvalidRequest(f"tencent health check {field} must be in {low}..{high}, got {value}",
                                 field=f"health_checker.{field}")
    if hc.timeout > hc.interval:
        raise InvalidRequest(f"tencent health check timeout ({hc.timeout}) must not exceed interval ({hc.interval})",
                             field="health_checker.timeout")
    if listener_protocol == "UDP" and hc.protocol == "HTTP":
        raise Unsupported("[tencent] a UDP listener cannot run an HTTP health check "
                          "(CLB CheckType: PING, PORT, CUSTOM)")
    out: dict[str, Any] = {
        "HealthSwitch": 1,
        "CheckType": "PORT" if listener_protocol == "UDP" else hc.protocol,
        "CheckPort": hc.port,
        "IntervalTime": hc.interval,
        "TimeOut": hc.timeout,
        "HealthNum": hc.threshold,
        "UnHealthNum": hc.threshold,
    }
    if hc.protocol == "HTTP":
        out.update(HttpCheckPath="/", HttpCheckMethod="GET", HttpCode=2, HttpVersion="HTTP/1.1")  # 2: 2xx healthy
    return out


def health_checker(hc: Any, group_port: int) -> HealthChecker:
    if hc is None:
        return HealthChecker(protocol="TCP", port=group_port, interval=5, timeout=2, threshold=3)
    protocol = "HTTP" if hc.CheckType == "HTTP" else "TCP"
    return HealthChecker(protocol=protocol, port=hc.CheckPort or group_port, interval=hc.IntervalTime,
                         timeout=hc.TimeOut, threshold=hc.HealthNum)


def target_detail(t: Any) -> str:
    """Alive/Dead/Unknown/Close from the current field, falling back to the misspelt deprecated one."""
    detail = getattr(t, "HealthStatusDetail", None) or getattr(t, "HealthStatusDetial", None)
    if detail:
        return str(detail)
    return "Alive" if t.HealthStatus else "Dead"


class TencentNLBHandler(NLBHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    # ------------------------------------------------------------------ reads
    def _lb(self, lb_id: str) -> Any:
        page = self.api.call("clb", "DescribeLoadBalancers", {"LoadBalancerIds": [lb_id]}, idempotent=True)
        return describe_one(page.LoadBalancerSet or [], f"[tencent] load balancer {lb_id}")

    def _listener(self, lb_id: str) -> Any:
        listeners = self.api.call("clb", "DescribeListeners", {"LoadBalancerId": lb_id}, idempotent=True).Listeners
        layer4 = [lst for lst in listeners or [] if lst.Protocol in ("TCP", "UDP")]
        if not layer4:
            raise CloudError(PROVIDER, "NoListener", f"load balancer {lb_id} has no TCP/UDP listener")
        return layer4[0]

    def _targets(self, lb_id: str, listener_id: str) -> list[Any]:
        out = self.api.call("clb", "DescribeTargets", {"LoadBalancerId": lb_id, "ListenerIds": [listener_id]},
                          idempotent=True).Listeners or []
        return [t for lst in out if lst.ListenerId == listener_id for t in lst.Targets or []]

    def _group_port(self, listener: Any, targets: list[Any]) -> int:
        m = GROUP_NAME.match(listener.ListenerName or "")
        if m:
            return int(m.group(1))
        return targets[0].Port if targets else listener.Port

    def _info(self, lb: Any) -> NLBInfo:
        listener = self._listener(lb.LoadBalancerId)
        targets = self._targets(lb.LoadBalancerId, listener.ListenerId)
        port = self._group_port(listener, targets)
        vip = (lb.LoadBalancerVips or [None])[0]
        return NLBInfo(
            iid=IID(name_id=lb.LoadBalancerName, system_id=lb.LoadBalancerId),
            vpc=lb.VpcId,
            type="INTERNAL" if lb.LoadBalancerType == "INTERNAL" else "PUBLIC",
            scope="REGION",
            listener=Listener(protocol=listener.Protocol, port=listener.Port, ip=vip,
                              dns_name=lb.LoadBalancerDomain or lb.Domain or None),
            vm_group=VMGroup(protocol=listener.Protocol, port=port, vms=[t.InstanceId for t in targets]),
            health_checker=health_checker(listener.HealthCheck, port),
            extra={"listener_id": listener.ListenerId, "status": lb.Status, "subnet": lb.SubnetId,
                   "forward": lb.Forward},
        )

    def get(self, iid: IID) -> NLBInfo:
        return self._info(self._lb(iid.system_id))

    def list(self) -> list[NLBInfo]:
        return [self._info(lb) for lb in self.api.list_all("clb", "DescribeLoadBalancers", "LoadBalancerSet")]

    def list_iids(self) -> list[IID]:
        return [IID(name_id=lb.LoadBalancerName, system_id=lb.LoadBalancerId)
                for lb in self.api.list_all("clb", "DescribeLoadBalancers", "LoadBalancerSet")]

    # ------------------------------------------------------------------ create / delete
    def create(self, req: NLBReq) -> NLBInfo:
        api = self.api
        if req.vm_group.protocol != req.listener.protocol:
            raise Unsupported("[tencent] a CLB listener forwards with its own protocol: the VM group's protocol "
                              "must be the listener's")
        check = health_check(req.health_checker, req.listener.protocol)
        params: dict[str, Any] = {"LoadBalancerType": TYPE[req.type], "Forward": 1, "LoadBalancerName": req.name,
                                  "VpcId": req.vpc, "ProjectId": api.options.project_id}
        if req.type == "INTERNAL":
            subnets = api.call("vpc", "DescribeSubnets", {"Filters": [{"Name": "vpc-id", "Values": [req.vpc]}],
                                                        "Limit": "1"}, idempotent=True).SubnetSet or []
            if not subnets:
                raise InvalidRequest("an INTERNAL NLB needs a subnet in its VPC", field="vpc")
            params["SubnetId"] = subnets[0].SubnetId
        with Rollback(f"nlb {req.name}") as undo:
            made = api.call("clb", "CreateLoadBalancer", params, idempotent=False)
            lb_id = made.LoadBalancerIds[0]
            undo.push(f"load balancer {lb_id}", lambda: self._delete(lb_id))
            api.wait_task(made.RequestId, "clb.CreateLoadBalancer")
            listener_id = self._create_listener(lb_id, req.listener, req.vm_group.port, check)
            if req.vm_group.vms:
                self._register(lb_id, listener_id, req.vm_group.vms, req.vm_group.port)
        return self.get(IID(name_id=req.name, system_id=lb_id))

    def _create_listener(self, lb_id: str, listener: Listener, group_port: int, check: dict[str, Any]) -> str:
        out = self.api.clb_write("CreateListener", {"LoadBalancerId": lb_id, "Ports": [listener.port],
                                                  "Protocol": listener.protocol,
                                                  "ListenerNames": [group_name(group_port)], "HealthCheck": check})
        return str(out.ListenerIds[0])

    def delete(self, iid: IID) -> None:
        self._lb(iid.system_id)
        self._delete(iid.system_id)

    def _delete(self, lb_id: str) -> None:
        self.api.clb_write("DeleteLoadBalancer", {"LoadBalancerIds": [lb_id]})

    # ------------------------------------------------------------------ members and health
    def _register(self, lb_id: str, listener_id: str, vms: list[str], port: int) -> None:
        targets = [{"InstanceId": vm, "Port": port, "Weight": TARGET_WEIGHT} for vm in vms]
        self.api.clb_write("RegisterTargets", {"LoadBalancerId": lb_id, "ListenerId": listener_id, "Targets": targets})

    def _deregister(self, lb_id: str, listener_id: str, targets: list[tuple[str, int]]) -> None:
        body = [{"InstanceId": vm, "Port": port} for vm, port in targets]
        self.api.clb_write("DeregisterTargets", {"LoadBalancerId": lb_id, "ListenerId": listener_id, "Targets": body})

    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        info = self.get(iid)
        dup = [v for v in vms if v in info.vm_group.vms]
        if dup:
            raise AlreadyExists(f"[tencent] {dup[0]} is already in the VM group of {iid.system_id}")
        self._register(iid.system_id, info.extra["listener_id"], vms, info.vm_group.port)
        return self.get(iid).vm_group

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        listener = self._listener(iid.system_id)
        targets = self._targets(iid.system_id, listener.ListenerId)
        members = {t.InstanceId: t.Port for t in targets}
        missing = [v for v in vms if v not in members]
        if missing:
            raise NotFound(f"[tencent] {missing[0]} is not in the VM group of {iid.system_id}")
        self._deregister(iid.system_id, listener.ListenerId, [(v, members[v]) for v in vms])
        return self.get(iid).vm_group

    def health(self, iid: IID) -> HealthInfo:
        info = self.get(iid)
        page = self.api.call("clb", "DescribeTargetHealth", {"LoadBalancerIds": [iid.system_id]}, idempotent=True)
        alive: set[str] = set()
        for lb in page.LoadBalancers or []:
            for lst in lb.Listeners or []:
                if lst.ListenerId != info.extra["listener_id"]:
                    continue
                for rule in lst.Rules or []:
                    alive |= {t.TargetId for t in rule.Targets or [] if target_detail(t) == "Alive"}
        members = info.vm_group.vms
        return HealthInfo(all=list(members), healthy=[v for v in members if v in alive],
                          unhealthy=[v for v in members if v not in alive])

    # ------------------------------------------------------------------ changes
    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        api = self.api
        old = self._listener(iid.system_id)
        if (old.Protocol, old.Port) == (listener.protocol, listener.port):
            return self.get(iid).listener
        targets = self._targets(iid.system_id, old.ListenerId)
        group_port = self._group_port(old, targets)
        check = health_check(health_checker(old.HealthCheck, group_port), listener.protocol)
        with Rollback(f"listener of {iid.system_id}") as undo:
            new_id = self._create_listener(iid.system_id, listener, group_port, check)
            undo.push(f"listener {new_id}", lambda: api.clb_write("DeleteListener", {
                "LoadBalancerId": iid.system_id, "ListenerId": new_id}))
            if targets:
                self._register(iid.system_id, new_id, [t.InstanceId for t in targets], group_port)
            api.clb_write("DeleteListener", {"LoadBalancerId": iid.system_id, "ListenerId": old.ListenerId})
        return self.get(iid).listener

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        api = self.api
        listener = self._listener(iid.system_id)
        if vm_group.protocol != listener.Protocol:
            raise Unsupported("[tencent] a CLB listener forwards with its own protocol: the VM group's protocol "
                              "must be the listener's (change the listener instead)")
        targets = self._targets(iid.system_id, listener.ListenerId)
        if self._group_port(listener, targets) == vm_group.port:
            return self.get(iid).vm_group
        with Rollback(f"vm group of {iid.system_id}") as undo:
            moved = [t.InstanceId for t in targets if t.Port != vm_group.port]
            if moved:
                self._register(iid.system_id, listener.ListenerId, moved, vm_group.port)
                undo.push("new targets", lambda: self._deregister(iid.system_id, listener.ListenerId,
                                                                   [(v, vm_group.port) for v in moved]))
            api.clb_write("ModifyListener", {"LoadBalancerId": iid.system_id, "ListenerId": listener.ListenerId,
                                           "ListenerName": group_name(vm_group.port)})
            old = [(t.InstanceId, t.Port) for t in targets if t.Port != vm_group.port]
            if old:
                self._deregister(iid.system_id, listener.ListenerId, old)
        return self.get(iid).vm_group

    def change_health_checker(self, iid: IID, health_checker_req: HealthChecker) -> HealthChecker:
        listener = self._listener(iid.system_id)
        check = health_check(health_checker_req, listener.Protocol)
        self.api.clb_write("ModifyListener", {"LoadBalancerId": iid.system_id, "ListenerId": listener.ListenerId,
                                            "HealthCheck": check})
        return self.get(iid).health_checker
