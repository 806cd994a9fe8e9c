"""Routes: instances (+ actions), instance groups, regional health checks, regional backend
services (+ getHealth) and forwarding rules."""

from __future__ import annotations

from typing import Any

from tests.fakes.gcp.state import BASE, ComputeState, bad, in_use, last, now
from tests.fakes.server import HttpError, Request, RouteTable

P = "/compute/v1/projects/{project}"
Z = P + "/zones/{zone}"
R = P + "/regions/{region}"

#: action -> (statuses it may start from, transitional statuses, final status)
ACTIONS: dict[str, tuple[tuple[str, ...], list[str], str]] = {
    "stop": (("RUNNING", "SUSPENDED", "STAGING", "PROVISIONING"), ["STOPPING"], "TERMINATED"),
    "start": (("TERMINATED",), ["PROVISIONING", "STAGING"], "RUNNING"),
    "suspend": (("RUNNING",), ["SUSPENDING"], "SUSPENDED"),
    "resume": (("SUSPENDED",), ["STAGING"], "RUNNING"),
    "reset": (("RUNNING",), [], "RUNNING"),
}


def _body(req: Request) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise bad("Invalid JSON payload received.", "parseError")
    return req.body


def _rel(link: str) -> str:
    return link.split("/compute/v1/", 1)[-1]


def add_instance_routes(t: RouteTable, s: ComputeState) -> None:
    def serve(vm: dict[str, Any]) -> dict[str, Any]:
        # Serve the current status, then move one step along any pending transition.
        out = dict(vm)
        pending = s.pending.get(vm["selfLink"])
        if pending:
            vm["status"] = pending.pop(0)
            if not pending:
                del s.pending[vm["selfLink"]]
        return out

    def move(vm: dict[str, Any], transitional: list[str], final: str) -> None:
        if s.transitions and transitional:
            vm["status"] = transitional[0]
            s.pending[vm["selfLink"]] = [*transitional[1:], final]
        else:
            vm["status"] = final
            s.pending.pop(vm["selfLink"], None)

    @t.route("POST", Z + "/instances", schema="Operation")
    def instance_insert(req: Request) -> Any:
        p, zone = req.params["project"], req.params["zone"]
        scope = f"zones/{zone}"
        s.zone(p, zone)
        body = _body(req)
        mt_ref = str(body.get("machineType") or "")
        if "/" in mt_ref:
            mp, mscope, mcoll, mname = s.parse_ref(mt_ref, p)
            if mcoll != "machineTypes" or not mscope.startswith("zones/"):
                raise bad(f"Invalid value for field 'resource.machineType': '{mt_ref}'.")
            mt = s.machine_type(mp, mscope.split("/", 1)[1], mname)
        else:
            mt = s.machine_type(p, zone, mt_ref)
        if mt["zone"] != zone:
            raise bad(
                f"Invalid value for field 'resource.machineType': '{body.get('machineType')}'. "
                "Machine type is in a different zone."
            )
        disks = body.get("disks") or []
        boot = next((d for d in disks if d.get("boot")), None)
        if boot is None:
            raise bad("Invalid value for field 'resource.disks': ''. Boot disk must be specified.")
        init = boot.get("initializeParams") or {}
        image = s.resolve_image(init.get("sourceImage") or "", p)
        nics = body.get("networkInterfaces") or []
        if not nics:
            raise bad("Invalid value for field 'resource.networkInterfaces': ''. No network interface.")
        out_nics = []
        for i, nic in enumerate(nics):
            sn = s.deref(nic.get("subnetwork") or "", p, "subnetworks")
            if last(sn["region"]) != zone.rsplit("-", 1)[0]:
                raise bad(
                    f"Invalid value for field 'resource.networkInterfaces[{i}].subnetwork'. "
                    "Subnetwork is in a different region."
                )
            if nic.get("network") and s.deref(nic["network"], p, "networks")["selfLink"] != sn["network"]:
                raise bad(f"Subnetwork '{sn['name']}' does not belong to the network.")
            access = []
            for ac in nic.get("accessConfigs") or []:
                access.append(
                    {
                        "kind": "compute#accessConfig",
                        "type": ac.get("type", "ONE_TO_ONE_NAT"),
                        "name": ac.get("name", "External NAT"),
                        "natIP": s.alloc_nat(),
                        "networkTier": ac.get("networkTier", "PREMIUM"),
                    }
                )
            out_nics.append(
                {
                    "kind": "compute#networkInterface",
                    "network": sn["network"],
                    "subnetwork": sn["selfLink"],
                    "networkIP": s.alloc_ip(sn),
                    "name": f"nic{i}",
                    "accessConfigs": access,
                    "fingerprint": "LxCSp4VMfGQ=",
                    "stackType": "IPV4_ONLY",
                }
            )
        vm = s.new_resource(p, scope, "instances", "instance", body)
        size = str(init.get("diskSizeGb") or image["diskSizeGb"])
        if int(size) < int(image["diskSizeGb"]):
            del s.coll(p, scope, "instances")[vm["name"]]
            raise bad(
                f"Invalid value for field 'resource.disks[0].initializeParams.diskSizeGb': '{size}'. "
                f"Requested disk size cannot be smaller than the image size ({image['diskSizeGb']} GB)"
            )
        vm.update(
            machineType=mt["selfLink"],
            networkInterfaces=out_nics,
            disks=[
                {
                    "kind": "compute#attachedDisk",
                    "type": "PERSISTENT",
                    "mode": "READ_WRITE",
                    "source": s.link(p, scope, "disks", vm["name"]),
                    "deviceName": boot.get("deviceName", "persistent-disk-0"),
                    "index": 0,
                    "boot": True,
                    "autoDelete": bool(boot.get("autoDelete", True)),
                    "interface": "SCSI",
                    "diskSizeGb": size,
                    "architecture": image["architecture"],
                    "licenses": image["licenses"],
                    "guestOsFeatures": image["guestOsFeatures"],
                }
            ],
            tags={"items": list((body.get("tags") or {}).get("items", [])), "fingerprint": "42WmSpB8rSM="},
            metadata={
                "kind": "compute#metadata",
                "fingerprint": "wYg6Sz2qGvc=",
                "items": list((body.get("metadata") or {}).get("items", [])),
            },
            scheduling={
                "onHostMaintenance": "MIGRATE",
                "automaticRestart": True,
                "preemptible": False,
                "provisioningModel": "STANDARD",
            },
            cpuPlatform="Intel Broadwell",
            labelFingerprint="42WmSpB8rSM=",
            startRestricted=False,
            deletionProtection=False,
            canIpForward=False,
            fingerprint="3T2gZsFt8hk=",
            lastStartTimestamp=now(),
            status="RUNNING",
        )
        move(vm, ["PROVISIONING", "STAGING"], "RUNNING")
        return s.operation(req, scope, "insert", vm)

    @t.route("GET", Z + "/instances/{name}", schema="Instance")
    def instance_get(req: Request) -> Any:
        return serve(s.get(req.params["project"], f"zones/{req.params['zone']}", "instances", req.params["name"]))

    @t.route("GET", Z + "/instances", schema="InstanceList")
    def instance_list(req: Request) -> Any:
        p, scope = req.params["project"], f"zones/{req.params['zone']}"
        s.zone(p, req.params["zone"])
        items = [serve(vm) for vm in s.coll(p, scope, "instances").values()]
        return s.page(req, items, "instanceList", s.link(p, scope, "instances"))

    @t.route("GET", P + "/aggregated/instances", schema="InstanceAggregatedList")
    def instance_aggregated(req: Request) -> Any:
        p = req.params["project"]
        scoped: dict[str, Any] = {}
        for (proj, scope, coll), items in s.store.items():
            if proj == p and coll == "instances" and items:
                scoped[scope] = {"instances": [serve(vm) for vm in items.values()]}
        return {
            "kind": "compute#instanceAggregatedList",
            "id": f"projects/{p}/aggregated/instances",
            "items": scoped,
            "selfLink": f"{BASE}/projects/{p}/aggregated/instances",
        }

    @t.route("DELETE", Z + "/instances/{name}", schema="Operation")
    def instance_delete(req: Request) -> Any:
        p, scope, name = req.params["project"], f"zones/{req.params['zone']}", req.params["name"]
        vm = s.get(p, scope, "instances", name)
        del s.coll(p, scope, "instances")[name]
        s.pending.pop(vm["selfLink"], None)
        for nic in vm["networkInterfaces"]:
            s.free_ip(nic["subnetwork"], nic["networkIP"])
        for ig in s.all_of("instanceGroups"):
            if vm["selfLink"] in ig["_members"]:
                ig["_members"].remove(vm["selfLink"])
                ig["size"] = len(ig["_members"])
        return s.operation(req, scope, "delete", vm["selfLink"])

    def action(name_: str) -> Any:
        allowed_from, transitional, final = ACTIONS[name_]

        def handler(req: Request) -> Any:
            p, scope = req.params["project"], f"zones/{req.params['zone']}"
            vm = s.get(p, scope, "instances", req.params["name"])
            if vm["status"] not in allowed_from:
                raise HttpError(
                    400,
                    "resourceNotReady" if name_ != "resume" else "invalid",
                    f"The resource '{_rel(vm['selfLink'])}' is not ready: instance is {vm['status']}, cannot {name_}",
                )
            ts = now()
            if name_ == "stop":
                vm["lastStopTimestamp"] = ts
            elif name_ == "suspend":
                vm["lastSuspendedTimestamp"] = ts
            elif name_ in ("start", "resume", "reset"):
                vm["lastStartTimestamp"] = ts
            move(vm, transitional, final)
            return s.operation(req, scope, name_, vm)

        return handler

    for a in ACTIONS:
        t.add("POST", Z + "/instances/{name}/" + a, action(a), schema="Operation")


def add_lb_routes(t: RouteTable, s: ComputeState) -> None:
    def group_json(ig: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in ig.items() if not k.startswith("_")}

    # ------------------------------------------------------------------ instance groups
    @t.route("POST", Z + "/instanceGroups", schema="Operation")
    def group_insert(req: Request) -> Any:
        p, zone = req.params["project"], req.params["zone"]
        s.zone(p, zone)
        body = _body(req)
        net = s.deref(body["network"], p, "networks")["selfLink"] if body.get("network") else None
        ig = s.new_resource(p, f"zones/{zone}", "instanceGroups", "instanceGroup", body)
        ig.update(size=0, fingerprint="42WmSpB8rSM=", namedPorts=list(body.get("namedPorts") or []), _members=[])
        if net:
            ig["network"] = net
        return s.operation(req, f"zones/{zone}", "compute.instanceGroups.insert", group_json(ig))

    @t.route("GET", Z + "/instanceGroups/{name}", schema="InstanceGroup")
    def group_get(req: Request) -> Any:
        return group_json(
            s.get(req.params["project"], f"zones/{req.params['zone']}", "instanceGroups", req.params["name"])
        )

    @t.route("GET", Z + "/instanceGroups", schema="InstanceGroupList")
    def group_list(req: Request) -> Any:
        p, scope = req.params["project"], f"zones/{req.params['zone']}"
        items = [group_json(ig) for ig in s.coll(p, scope, "instanceGroups").values()]
        return s.page(req, items, "instanceGroupList", s.link(p, scope, "instanceGroups"))

    @t.route("DELETE", Z + "/instanceGroups/{name}", schema="Operation")
    def group_delete(req: Request) -> Any:
        p, scope, name = req.params["project"], f"zones/{req.params['zone']}", req.params["name"]
        ig = s.get(p, scope, "instanceGroups", name)
        for bs in s.all_of("backendServices"):
            if any(b["group"] == ig["selfLink"] for b in bs.get("backends", [])):
                raise in_use(f"instance group '{_rel(ig['selfLink'])}'", _rel(bs["selfLink"]))
        del s.coll(p, scope, "instanceGroups")[name]
        return s.operation(req, scope, "compute.instanceGroups.delete", ig["selfLink"])

    def members(req: Request, add: bool) -> Any:
        p, zone, scope = req.params["project"], req.params["zone"], f"zones/{req.params['zone']}"
        ig = s.get(p, scope, "instanceGroups", req.params["name"])
        refs = [e.get("instance", "") for e in (_body(req).get("instances") or [])]
        vms = [s.deref(r, p, "instances") for r in refs]
        for vm in vms:
            if last(vm["zone"]) != zone:
                raise bad(f"Instance '{vm['name']}' is not in zone '{zone}'.")
            net = vm["networkInterfaces"][0]["network"]
            if add and ig.get("network") and net != ig["network"]:
                raise bad(f"Instance '{vm['name']}' is in a different network than the instance group.")
        for vm in vms:
            if add:
                if vm["selfLink"] in ig["_members"]:
                    raise bad(
                        f"The resource '{_rel(vm['selfLink'])}' is already a member of '{_rel(ig['selfLink'])}'",
                        "memberAlreadyExists",
                    )
                ig["_members"].append(vm["selfLink"])
                ig.setdefault("network", vm["networkInterfaces"][0]["network"])
                ig.setdefault("subnetwork", vm["networkInterfaces"][0]["subnetwork"])
            elif vm["selfLink"] in ig["_members"]:
                ig["_members"].remove(vm["selfLink"])
        ig["size"] = len(ig["_members"])
        op = "addInstances" if add else "removeInstances"
        return s.operation(req, scope, f"compute.instanceGroups.{op}", group_json(ig))

    t.add("POST", Z + "/instanceGroups/{name}/addInstances", lambda r: members(r, True), schema="Operation")
    t.add("POST", Z + "/instanceGroups/{name}/removeInstances", lambda r: members(r, False), schema="Operation")

    @t.route("POST", Z + "/instanceGroups/{name}/listInstances", schema="InstanceGroupsListInstances")
    def group_members(req: Request) -> Any:
        p, scope = req.params["project"], f"zones/{req.params['zone']}"
        ig = s.get(p, scope, "instanceGroups", req.params["name"])
        items = []
        for link in ig["_members"]:
            _, vscope, _, vname = s.parse_ref(link, p)
            vm = s.coll(p, vscope, "instances").get(vname)
            if vm is not None:
                items.append({"instance": link, "status": vm["status"]})
        return s.page(req, items, "instanceGroupsListInstances", ig["selfLink"] + "/listInstances")

    # ------------------------------------------------------------------ region health checks
    def patchable(coll: str, kind: str, check: Any) -> None:
        base = R + "/" + coll

        def insert(req: Request) -> Any:
            p, region = req.params["project"], req.params["region"]
            s.region(p, region)
            body = _body(req)
            check(p, body)
            res = s.new_resource(p, f"regions/{region}", coll, kind, body)
            if kind != "healthCheck":  # HealthCheck is the one of the three without a fingerprint
                res["fingerprint"] = "Fs3PCmNaSvE="
            return s.operation(req, f"regions/{region}", "insert", res)

        def get(req: Request) -> Any:
            return s.get(req.params["project"], f"regions/{req.params['region']}", coll, req.params["name"])

        def lst(req: Request) -> Any:
            p, scope = req.params["project"], f"regions/{req.params['region']}"
            items = list(s.coll(p, scope, coll).values())
            return s.page(req, items, f"{kind}List", s.link(p, scope, coll))

        def patch(req: Request) -> Any:
            p, scope = req.params["project"], f"regions/{req.params['region']}"
            res = s.get(p, scope, coll, req.params["name"])
            body = _body(req)
            merged = {**res, **{k: v for k, v in body.items() if k not in ("name", "id", "selfLink", "kind")}}
            check(p, merged)
            res.clear()
            res.update(merged)
            return s.operation(req, scope, "patch", res)

        def update(req: Request) -> Any:
            # PUT replaces every writable field; identity and output-only fields stay.
            p, scope = req.params["project"], f"regions/{req.params['region']}"
            res = s.get(p, scope, coll, req.params["name"])
            body = dict(_body(req))
            check(p, body)
            keep = (
                "name",
                "id",
                "selfLink",
                "kind",
                "creationTimestamp",
                "region",
                "fingerprint",
                "IPAddress",
            )
            res_new = {
                **{k: v for k, v in body.items() if k not in keep},
                **{k: res[k] for k in keep if k in res},
            }
            res.clear()
            res.update(res_new)
            return s.operation(req, scope, "update", res)

        def delete(req: Request) -> Any:
            p, scope, name = req.params["project"], f"regions/{req.params['region']}", req.params["name"]
            res = s.get(p, scope, coll, name)
            for user in s.all_of("backendServices") + s.all_of("forwardingRules"):
                if res["selfLink"] in user.get("healthChecks", []) or user.get("backendService") == res["selfLink"]:
                    raise in_use(f"{kind} '{_rel(res['selfLink'])}'", _rel(user["selfLink"]))
            del s.coll(p, scope, coll)[name]
            return s.operation(req, scope, "delete", res["selfLink"])

        t.add("POST", base, insert, schema="Operation")
        t.add("GET", base + "/{name}", get, schema=kind[0].upper() + kind[1:])
        t.add("GET", base, lst, schema=kind[0].upper() + kind[1:] + "List")
        t.add("PATCH", base + "/{name}", patch, schema="Operation")
        t.add("PUT", base + "/{name}", update, schema="Operation")
        t.add("DELETE", base + "/{name}", delete, schema="Operation")

    def check_health(p: str, hc: dict[str, Any]) -> None:
        kind = hc.get("type")
        if kind not in ("TCP", "HTTP", "HTTPS", "SSL", "HTTP2", "GRPC", "UDP"):
            raise bad(f"Invalid value for field 'resource.type': '{kind}'.")
        if int(hc.get("timeoutSec", 5)) > int(hc.get("checkIntervalSec", 5)):
            raise bad(
                "Invalid value for field 'resource.timeoutSec': timeout must be less than or equal to checkIntervalSec."
            )

    def check_backend(p: str, bs: dict[str, Any]) -> None:
        # References come in full or partial; the API stores (and returns) full URLs.
        bs["healthChecks"] = [s.deref(hc, p, "healthChecks")["selfLink"] for hc in bs.get("healthChecks", [])]
        for b in bs.get("backends", []):
            b["group"] = s.deref(b.get("group", ""), p, "instanceGroups")["selfLink"]
            b.setdefault("balancingMode", "CONNECTION")
        if bs.get("network"):
            bs["network"] = s.deref(bs["network"], p, "networks")["selfLink"]
        protocols = ("TCP", "UDP", "UNSPECIFIED", "SSL", "HTTP", "HTTPS", "HTTP2", "GRPC")
        if bs.get("protocol", "TCP") not in protocols:
            raise bad(f"Invalid value for field 'resource.protocol': '{bs.get('protocol')}'.")

    def check_rule(p: str, fr: dict[str, Any]) -> None:
        if fr.get("backendService"):
            fr["backendService"] = s.deref(fr["backendService"], p, "backendServices")["selfLink"]
        if fr.get("network"):
            fr["network"] = s.deref(fr["network"], p, "networks")["selfLink"]
        if fr.get("subnetwork"):
            fr["subnetwork"] = s.deref(fr["subnetwork"], p, "subnetworks")["selfLink"]

    patchable("healthChecks", "healthCheck", check_health)
    patchable("backendServices", "backendService", check_backend)
    patchable("forwardingRules", "forwardingRule", check_rule)

    @t.route("POST", R + "/backendServices/{name}/getHealth", schema="BackendServiceGroupHealth")
    def backend_health(req: Request) -> Any:
        p, scope = req.params["project"], f"regions/{req.params['region']}"
        bs = s.get(p, scope, "backendServices", req.params["name"])
        group = _body(req).get("group", "")
        ig = s.deref(group, p, "instanceGroups")
        if not any(b.get("group") == ig["selfLink"] for b in bs.get("backends", [])):
            raise bad(f"Instance group '{_rel(ig['selfLink'])}' is not a backend of '{_rel(bs['selfLink'])}'.")
        status = []
        for link in ig["_members"]:
            _, vscope, _, vname = s.parse_ref(link, p)
            vm = s.coll(p, vscope, "instances").get(vname)
            if vm is None:
                continue
            entry = {
                "instance": link,
                "ipAddress": vm["networkInterfaces"][0]["networkIP"],
                "healthState": "HEALTHY" if vm["status"] == "RUNNING" else "UNHEALTHY",
            }
            for fr in s.all_of("forwardingRules"):
                if fr.get("backendService") == bs["selfLink"]:
                    entry["forwardingRule"] = fr["selfLink"]
                    entry["forwardingRuleIp"] = fr["IPAddress"]
            status.append(entry)
        return {"kind": "compute#backendServiceGroupHealth", "healthStatus": status}


def add_forwarding_rule_defaults(s: ComputeState, t: RouteTable) -> None:
    """Forwarding rules get an address and a tier on insert, as the real API assigns them."""
    route = next(r for r in t.routes if r.method == "POST" and r.template == R + "/forwardingRules")
    inner = route.handler

    def handler(req: Request) -> Any:
        body = _body(req)
        proto = body.get("IPProtocol", "TCP")
        if proto not in ("TCP", "UDP", "ESP", "AH", "SCTP", "ICMP", "L3_DEFAULT"):
            raise bad(f"Invalid value for field 'resource.IPProtocol': '{proto}'.")
        if not (body.get("ports") or body.get("portRange") or body.get("allPorts")):
            raise bad(
                "Invalid value for field 'resource.portRange': ''. One of ports, portRange or allPorts must be set."
            )
        if body.get("loadBalancingScheme") == "INTERNAL":
            # ForwardingRule.subnetwork: "a subnetwork must be specified if the network is in custom
            # subnet mode" (Compute v1 reference); the address comes from that subnetwork.
            p = req.params["project"]
            net = s.deref(body.get("network") or "", p, "networks") if body.get("network") else None
            if net is None:
                raise bad("Invalid value for field 'resource.network': ''. Network is required for INTERNAL.")
            if not body.get("subnetwork"):
                if not net.get("autoCreateSubnetworks"):
                    raise bad("Invalid value for field 'resource.subnetwork': ''. "
                              "Subnetwork must be specified for a network in custom subnet mode.")
            else:
                sn = s.deref(body["subnetwork"], p, "subnetworks")
                if sn["network"] != net["selfLink"]:
                    raise bad(f"Invalid value for field 'resource.subnetwork': '{body['subnetwork']}'. "
                              "The subnetwork is not in the forwarding rule's network.")
                body.setdefault("IPAddress", s.alloc_ip(sn))
        body.setdefault("IPAddress", s.alloc_nat())
        body.setdefault("IPProtocol", proto)
        body.setdefault("networkTier", "PREMIUM")
        body.setdefault("labelFingerprint", "42WmSpB8rSM=")
        return inner(req)

    route.handler = handler
