"""Network load balancers: an ELBv2 "network" LB in the VPC's subnets, one listener and one
target group (the VM group, with its health check)."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from mcinfra.core.errors import InUse, InvalidRequest, NotFound
from mcinfra.core.handlers import NLBHandler
from mcinfra.core.models import IID, HealthChecker, HealthInfo, Listener, NLBInfo, NLBReq, VMGroup
from mcinfra.drivers.aws.client import AwsClient
from mcinfra.drivers.kit import Rollback

_ELB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")


def elb_name(name: str) -> str:
    """ELB and target group names: at most 32 letters, digits and '-', no '-' at either end."""
    cooked = re.sub(r"[^A-Za-z0-9-]", "-", name)[:32].strip("-")
    if not _ELB_NAME.match(cooked) or cooked.lower().startswith("internal-"):
        raise InvalidRequest(
            f"{name!r} cannot be made an AWS load balancer name "
            "(1-32 letters, digits or '-', not starting with 'internal-')",
            field="name",
        )
    return cooked


def _tg_params(hc: HealthChecker) -> dict[str, Any]:
    params: dict[str, Any] = {
        "HealthCheckEnabled": True,
        "HealthCheckProtocol": hc.protocol,
        "HealthCheckPort": str(hc.port),
        "HealthCheckIntervalSeconds": hc.interval,
        "HealthCheckTimeoutSeconds": hc.timeout,
        "HealthyThresholdCount": hc.threshold,
        "UnhealthyThresholdCount": hc.threshold,
    }
    if hc.protocol == "HTTP":
        params["HealthCheckPath"] = "/"
    return params


class AwsNLBHandler(NLBHandler):
    def __init__(self, client: AwsClient) -> None:
        self.api = client

    # ------------------------------------------------------------------ reads
    def _lb(self, arn: str) -> dict[str, Any]:
        return self.api.describe("elbv2", "describe_load_balancers", "LoadBalancers", what=f"nlb {arn}",
                               LoadBalancerArns=[arn])

    def _listener(self, arn: str) -> dict[str, Any] | None:
        ls = self.api.call("elbv2", "describe_listeners", what=f"nlb {arn} listeners", LoadBalancerArn=arn)["Listeners"]
        return ls[0] if ls else None

    @staticmethod
    def _forward_tg(listener: dict[str, Any] | None) -> str | None:
        for action in (listener or {}).get("DefaultActions", []):
            if action.get("TargetGroupArn"):
                return action["TargetGroupArn"]
            for tg in action.get("ForwardConfig", {}).get("TargetGroups", []):
                return tg["TargetGroupArn"]
        return None

    def _tg(self, lb: dict[str, Any], listener: dict[str, Any] | None) -> dict[str, Any]:
        arn = self._forward_tg(listener)
        if arn:
            found = self.api.call("elbv2", "describe_target_groups", TargetGroupArns=[arn])["TargetGroups"]
        else:
            found = self.api.call("elbv2", "describe_target_groups", LoadBalancerArn=lb["LoadBalancerArn"])[
                "TargetGroups"
            ]
        if not found:
            raise NotFound(f"[aws] nlb {lb['LoadBalancerName']} has no target group")
        return found[0]

    def _targets(self, tg_arn: str) -> list[dict[str, Any]]:
        return self.api.call("elbv2", "describe_target_health", TargetGroupArn=tg_arn)["TargetHealthDescriptions"]

    @staticmethod
    def _health_checker(tg: dict[str, Any]) -> HealthChecker:
        port = tg.get("HealthCheckPort", "traffic-port")
        return HealthChecker(
            protocol="HTTP" if tg.get("HealthCheckProtocol") in ("HTTP", "HTTPS") else "TCP",
            port=tg["Port"] if port == "traffic-port" else int(port),
            interval=tg.get("HealthCheckIntervalSeconds", 30),
            timeout=tg.get("HealthCheckTimeoutSeconds", 10),
            threshold=tg.get("HealthyThresholdCount", 3),
        )

    def _info(self, lb: dict[str, Any]) -> NLBInfo:
        arn = lb["LoadBalancerArn"]
        listener = self._listener(arn)
        tg = self._tg(lb, listener)
        targets = self._targets(tg["TargetGroupArn"])
        return NLBInfo(
            iid=IID(name_id=lb["LoadBalancerName"], system_id=arn),
            vpc=lb.get("VpcId", ""),
            type="INTERNAL" if lb.get("Scheme") == "internal" else "PUBLIC",
            scope="REGION",
            listener=Listener(
                protocol=(listener or {}).get("Protocol", tg["Protocol"]),
                port=(listener or {}).get("Port", tg["Port"]),
                dns_name=lb.get("DNSName"),
            ),
            vm_group=VMGroup(protocol=tg["Protocol"], port=tg["Port"], vms=[t["Target"]["Id"] for t in targets]),
            health_checker=self._health_checker(tg),
            created_at=lb.get("CreatedTime"),
            extra={
                "state": lb.get("State", {}).get("Code"),
                "listener_arn": (listener or {}).get("ListenerArn"),
                "target_group_arn": tg["TargetGroupArn"],
                "zones": [z.get("ZoneName") for z in lb.get("AvailabilityZones", [])],
            },
        )

    def get(self, iid: IID) -> NLBInfo:
        return self._info(self._lb(iid.system_id))

    def _network_lbs(self) -> list[dict[str, Any]]:
        return [
            lb
            for lb in self.api.pages("elbv2", "describe_load_balancers", "LoadBalancers")
            if lb.get("Type") == "network"
        ]

    def list(self) -> list[NLBInfo]:
        return [self._info(lb) for lb in self._network_lbs()]

    def list_iids(self) -> list[IID]:
        return [IID(name_id=lb["LoadBalancerName"], system_id=lb["LoadBalancerArn"]) for lb in self._network_lbs()]

    # ------------------------------------------------------------------ create / delete
    def _subnets(self, vpc_id: str) -> list[str]:
        by_zone: dict[str, str] = {}
        for sn in sorted(
            self.api.pages("ec2", "describe_subnets", "Subnets", Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]),
            key=lambda s: s["SubnetId"],
        ):
            by_zone.setdefault(sn["AvailabilityZone"], sn["SubnetId"])  # an NLB takes one subnet per zone
        if not by_zone:
            raise InvalidRequest(f"vpc {vpc_id} has no subnet to place the NLB in", field="vpc")
        return [by_zone[z] for z in sorted(by_zone)]

    def _create_tg(self, name: str, vpc: str, group: VMGroup, hc: HealthChecker) -> str:
        return self.api.call(
            "elbv2",
            "create_target_group",
            what=f"nlb {name} target group",
            Name=name,
            Protocol=group.protocol,
            Port=group.port,
            VpcId=vpc,
            TargetType="instance",
            **_tg_params(hc),
        )["TargetGroups"][0]["TargetGroupArn"]

    def _register(self, tg_arn: str, vms: list[str]) -> None:
        if vms:
            self.api.call(
                "elbv2",
                "register_targets",
                what="nlb targets",
                TargetGroupArn=tg_arn,
                Targets=[{"Id": v} for v in vms],
            )

    def create(self, req: NLBReq) -> NLBInfo:
        name = elb_name(req.name)
        subnets = self._subnets(req.vpc)
        # The target group can only go once the LB no longer uses it: undo runs newest first.
        with Rollback(f"nlb {name}") as undo:
            lb = self.api.call(
                "elbv2",
                "create_load_balancer",
                what=f"nlb {name}",
                Name=name,
                Type="network",
                Scheme="internal" if req.type == "INTERNAL" else "internet-facing",
                Subnets=subnets,
                Tags=[{"Key": "Name", "Value": req.name}],
            )["LoadBalancers"][0]
            lb_arn = lb["LoadBalancerArn"]
            undo.push("load balancer", lambda: self.api.call("elbv2", "delete_load_balancer", LoadBalancerArn=lb_arn))
            tg_arn = self._create_tg(name, req.vpc, req.vm_group, req.health_checker)
            undo.push("target group", lambda: self._delete_tg(tg_arn))
            self._register(tg_arn, req.vm_group.vms)
            self.api.call(
                "elbv2",
                "create_listener",
                what=f"nlb {name} listener",
                LoadBalancerArn=lb_arn,
                Protocol=req.listener.protocol,
                Port=req.listener.port,
                DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
            )
            return self._info(self._lb(lb_arn))

    def _delete_tg(self, tg_arn: str, attempts: int = 10) -> None:
        # AWS refuses (ResourceInUse) until the LB's deletion has released the group.
        for i in range(attempts):
            try:
                self.api.call("elbv2", "delete_target_group", what="nlb target group", TargetGroupArn=tg_arn)
                return
            except NotFound:
                return
            except InUse:
                if i == attempts - 1:
                    raise
                time.sleep(min(0.5 * 2**i, 5))

    def delete(self, iid: IID) -> None:
        lb = self._lb(iid.system_id)
        arn = lb["LoadBalancerArn"]
        listeners = self.api.call("elbv2", "describe_listeners", LoadBalancerArn=arn)["Listeners"]
        tgs = {t for t in (self._forward_tg(ls) for ls in listeners) if t}
        if not tgs:
            tgs = {
                t["TargetGroupArn"]
                for t in self.api.call("elbv2", "describe_target_groups", LoadBalancerArn=arn)["TargetGroups"]
            }
        for ls in listeners:
            self.api.call("elbv2", "delete_listener", what="nlb listener", ListenerArn=ls["ListenerArn"])
        self.api.call("elbv2", "delete_load_balancer", what=f"nlb {arn}", LoadBalancerArn=arn)
        for tg in sorted(tgs):
            self._delete_tg(tg)

    # ------------------------------------------------------------------ changes
    def _parts(self, iid: IID) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any]]:
        lb = self._lb(iid.system_id)
        listener = self._listener(lb["LoadBalancerArn"])
        return lb, listener, self._tg(lb, listener)

    def _group(self, tg: dict[str, Any]) -> VMGroup:
        return VMGroup(
            protocol=tg["Protocol"],
            port=tg["Port"],
            vms=[t["Target"]["Id"] for t in self._targets(tg["TargetGroupArn"])],
        )

    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        _, _, tg = self._parts(iid)
        self._register(tg["TargetGroupArn"], vms)
        return self._group(tg)

    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        _, _, tg = self._parts(iid)
        if vms:
            self.api.call(
                "elbv2",
                "deregister_targets",
                what="nlb targets",
                TargetGroupArn=tg["TargetGroupArn"],
                Targets=[{"Id": v} for v in vms],
            )
        return self._group(tg)

    def health(self, iid: IID) -> HealthInfo:
        _, _, tg = self._parts(iid)
        info = HealthInfo()
        for t in self._targets(tg["TargetGroupArn"]):
            vm = t["Target"]["Id"]
            info.all.append(vm)
            (info.healthy if t.get("TargetHealth", {}).get("State") == "healthy" else info.unhealthy).append(vm)
        return info

    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        lb, current, _ = self._parts(iid)
        if current is None:
            raise NotFound(f"[aws] nlb {iid.system_id} has no listener")
        changed = self.api.call(
            "elbv2",
            "modify_listener",
            what=f"nlb {iid.system_id} listener",
            ListenerArn=current["ListenerArn"],
            Port=listener.port,
            Protocol=listener.protocol,
        )["Listeners"][0]
        return Listener(protocol=changed["Protocol"], port=changed["Port"], dns_name=lb.get("DNSName"))

    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        lb, listener, tg = self._parts(iid)
        if (vm_group.protocol, vm_group.port) == (tg["Protocol"], tg["Port"]):
            return self._group(tg)
        if listener is None:
            raise NotFound(f"[aws] nlb {iid.system_id} has no listener")
        # A target group's protocol and port are fixed at AWS: build a new group with the same
        # health check and targets, point the listener at it, then drop the old one.
        vms = [t["Target"]["Id"] for t in self._targets(tg["TargetGroupArn"])]
        new_name = f"{lb['LoadBalancerName'][:27].rstrip('-')}-{secrets.token_hex(2)}"
        with Rollback(f"nlb {iid.system_id} vm group") as undo:
            new_arn = self._create_tg(new_name, lb["VpcId"], vm_group, self._health_checker(tg))
            undo.push("new target group", lambda: self._delete_tg(new_arn))
            self._register(new_arn, vms)
            self.api.call(
                "elbv2",
                "modify_listener",
                what=f"nlb {iid.system_id} listener",
                ListenerArn=listener["ListenerArn"],
                DefaultActions=[{"Type": "forward", "TargetGroupArn": new_arn}],
            )
        self._delete_tg(tg["TargetGroupArn"])
        new = self.api.call("elbv2", "describe_target_groups", TargetGroupArns=[new_arn])["TargetGroups"][0]
        return self._group(new)

    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        _, _, tg = self._parts(iid)
        params = _tg_params(health_checker)
        params.pop("HealthCheckEnabled")
        changed = self.api.call(
            "elbv2",
            "modify_target_group",
            what=f"nlb {iid.system_id} health check",
            TargetGroupArn=tg["TargetGroupArn"],
            **params,
        )["TargetGroups"][0]
        return self._health_checker(changed)
