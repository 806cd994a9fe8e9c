"""Routes: networks, subnetworks, firewalls, the catalog and the three operation scopes."""

from __future__ import annotations

import ipaddress
from typing import Any

from tests.fakes.gcp.state import BASE, ComputeState, bad, in_use, last
from tests.fakes.server import Request, RouteTable

P = "/compute/v1/projects/{project}"


def _body(req: Request) -> dict[str, Any]:
    if not isinstance(req.body, dict):
        raise bad("Invalid JSON payload received.", "parseError")
    return req.body


def add_network_routes(t: RouteTable, s: ComputeState) -> None:
    # ------------------------------------------------------------------ networks
    @t.route("POST", P + "/global/networks", schema="Operation")
    def network_insert(req: Request) -> Any:
        body = _body(req)
        if body.get("IPv4Range"):
            raise bad("Legacy networks are not supported by this fake")
        net = s.new_resource(req.params["project"], "global", "networks", "network", body)
        net.setdefault("autoCreateSubnetworks", False)
        net.update(
            subnetworks=[],
            routingConfig={"routingMode": (body.get("routingConfig") or {}).get("routingMode", "REGIONAL")},
            mtu=body.get("mtu", 1460),
            networkFirewallPolicyEnforcementOrder="AFTER_CLASSIC_FIREWALL",
        )
        return s.operation(req, "global", "insert", net)

    @t.route("GET", P + "/global/networks/{name}", schema="Network")
    def network_get(req: Request) -> Any:
        return s.get(req.params["project"], "global", "networks", req.params["name"])

    @t.route("GET", P + "/global/networks", schema="NetworkList")
    def network_list(req: Request) -> Any:
        p = req.params["project"]
        items = list(s.coll(p, "global", "networks").values())
        return s.page(req, items, "networkList", s.link(p, "global", "networks"))

    @t.route("DELETE", P + "/global/networks/{name}", schema="Operation")
    def network_delete(req: Request) -> Any:
        p, name = req.params["project"], req.params["name"]
        net = s.get(p, "global", "networks", name)
        link = net["selfLink"]
        users = [sn["selfLink"] for sn in s.all_of("subnetworks") if sn["network"] == link]
        users += [fw["selfLink"] for fw in s.all_of("firewalls") if fw["network"] == link]
        users += [ig["selfLink"] for ig in s.all_of("instanceGroups") if ig.get("network") == link]
        users += [
            vm["selfLink"]
            for vm in s.all_of("instances")
            if any(nic["network"] == link for nic in vm["networkInterfaces"])
        ]
        if users:
            raise in_use(f"network 'projects/{p}/global/networks/{name}'", users[0].split("/compute/v1/")[1])
        del s.coll(p, "global", "networks")[name]
        return s.operation(req, "global", "delete", link)

    # ------------------------------------------------------------------ subnetworks
    @t.route("POST", P + "/regions/{region}/subnetworks", schema="Operation")
    def subnet_insert(req: Request) -> Any:
        p, region = req.params["project"], req.params["region"]
        s.region(p, region)
        body = _body(req)
        net = s.deref(body.get("network") or "", p, "networks")
        try:
            cidr = ipaddress.ip_network(body.get("ipCidrRange") or "", strict=True)
        except ValueError as exc:
            raise bad(
                f"Invalid value for field 'resource.ipCidrRange': '{body.get('ipCidrRange')}'. Invalid IPCidrRange."
            ) from exc
        for other in s.all_of("subnetworks"):
            if other["network"] == net["selfLink"] and cidr.overlaps(ipaddress.ip_network(other["ipCidrRange"])):
                raise bad(
                    f"Invalid IPCidrRange: {cidr} conflicts with existing subnetwork "
                    f"'{other['name']}' in region '{last(other['region'])}'."
                )
        sn = s.new_resource(p, f"regions/{region}", "subnetworks", "subnetwork", body)
        sn.update(
            network=net["selfLink"],
            ipCidrRange=str(cidr),
            gatewayAddress=str(next(cidr.hosts())),
            privateIpGoogleAccess=bool(body.get("privateIpGoogleAccess", False)),
            fingerprint="ZvMaaA5Fk9A=",
            purpose="PRIVATE",
            stackType="IPV4_ONLY",
        )
        net["subnetworks"].append(sn["selfLink"])
        return s.operation(req, f"regions/{region}", "insert", sn)

    @t.route("GET", P + "/regions/{region}/subnetworks/{name}", schema="Subnetwork")
    def subnet_get(req: Request) -> Any:
        return s.get(req.params["project"], f"regions/{req.params['region']}", "subnetworks", req.params["name"])

    @t.route("GET", P + "/regions/{region}/subnetworks", schema="SubnetworkList")
    def subnet_list(req: Request) -> Any:
        p, scope = req.params["project"], f"regions/{req.params['region']}"
        items = list(s.coll(p, scope, "subnetworks").values())
        return s.page(req, items, "subnetworkList", s.link(p, scope, "subnetworks"))

    @t.route("DELETE", P + "/regions/{region}/subnetworks/{name}", schema="Operation")
    def subnet_delete(req: Request) -> Any:
        p, scope, name = req.params["project"], f"regions/{req.params['region']}", req.params["name"]
        sn = s.get(p, scope, "subnetworks", name)
        for vm in s.all_of("instances"):
            if any(nic.get("subnetwork") == sn["selfLink"] for nic in vm["networkInterfaces"]):
                raise in_use(
                    f"subnetwork 'projects/{p}/{scope}/subnetworks/{name}'",
                    vm["selfLink"].split("/compute/v1/")[1],
                )
        del s.coll(p, scope, "subnetworks")[name]
        for net in s.all_of("networks"):
            if sn["selfLink"] in net["subnetworks"]:
                net["subnetworks"].remove(sn["selfLink"])
        return s.operation(req, scope, "delete", sn["selfLink"])

    # ------------------------------------------------------------------ firewalls
    @t.route("POST", P + "/global/firewalls", schema="Operation")
    def firewall_insert(req: Request) -> Any:
        p = req.params["project"]
        body = _body(req)
        net = s.deref(body.get("network") or f"projects/{p}/global/networks/default", p, "networks")
        allowed, denied = body.get("allowed") or [], body.get("denied") or []
        if bool(allowed) == bool(denied):
            raise bad("Exactly one of 'allowed' or 'denied' must be specified.")
        for entry in allowed + denied:
            proto = str(entry.get("IPProtocol", "")).lower()
            if not proto:
                raise bad("Required field 'IPProtocol' not specified", "required")
            if entry.get("ports") and proto not in ("tcp", "udp", "sctp"):
                raise bad(
                    f"Invalid value for field 'resource.allowed[0].ports': ports are only "
                    f"allowed for tcp, udp or sctp, not {proto}."
                )
        direction = body.get("direction", "INGRESS")
        if direction not in ("INGRESS", "EGRESS"):
            raise bad(f"Invalid value for field 'resource.direction': '{direction}'.")
        priority = int(body.get("priority", 1000))
        if not 0 <= priority <= 65535:
            raise bad(f"Invalid value for field 'resource.priority': '{priority}'.")
        fw = s.new_resource(p, "global", "firewalls", "firewall", body)
        fw.update(
            network=net["selfLink"],
            direction=direction,
            priority=priority,
            disabled=bool(body.get("disabled", False)),
            logConfig={"enable": False},
        )
        if direction == "INGRESS" and not (body.get("sourceRanges") or body.get("sourceTags")):
            fw["sourceRanges"] = ["0.0.0.0/0"]
        if direction == "EGRESS" and not body.get("destinationRanges"):
            fw["destinationRanges"] = ["0.0.0.0/0"]
        return s.operation(req, "global", "insert", fw)

    @t.route("GET", P + "/global/firewalls/{name}", schema="Firewall")
    def firewall_get(req: Request) -> Any:
        return s.get(req.params["project"], "global", "firewalls", req.params["name"])

    @t.route("GET", P + "/global/firewalls", schema="FirewallList")
    def firewall_list(req: Request) -> Any:
        p = req.params["project"]
        items = list(s.coll(p, "global", "firewalls").values())
        return s.page(req, items, "firewallList", s.link(p, "global", "firewalls"))

    @t.route("DELETE", P + "/global/firewalls/{name}", schema="Operation")
    def firewall_delete(req: Request) -> Any:
        p, name = req.params["project"], req.params["name"]
        fw = s.get(p, "global", "firewalls", name)
        del s.coll(p, "global", "firewalls")[name]
        return s.operation(req, "global", "delete", fw["selfLink"])


def add_catalog_routes(t: RouteTable, s: ComputeState) -> None:
    from tests.fakes.gcp import catalog

    @t.route("GET", P + "/regions", schema="RegionList")
    def region_list(req: Request) -> Any:
        p = req.params["project"]
        items = [s.region(p, r) for r in catalog.REGIONS]
        return s.page(req, items, "regionList", f"{BASE}/projects/{p}/regions")

    @t.route("GET", P + "/regions/{region}", schema="Region")
    def region_get(req: Request) -> Any:
        return s.region(req.params["project"], req.params["region"])

    @t.route("GET", P + "/zones", schema="ZoneList")
    def zone_list(req: Request) -> Any:
        p = req.params["project"]
        items = [s.zone(p, z) for zones in catalog.REGIONS.values() for z in zones]
        return s.page(req, items, "zoneList", f"{BASE}/projects/{p}/zones")

    @t.route("GET", P + "/zones/{zone}", schema="Zone")
    def zone_get(req: Request) -> Any:
        return s.zone(req.params["project"], req.params["zone"])

    @t.route("GET", P + "/global/images/family/{family}", schema="Image")
    def image_family(req: Request) -> Any:
        return s.image_from_family(req.params["project"], req.params["family"])

    @t.route("GET", P + "/global/images/{name}", schema="Image")
    def image_get(req: Request) -> Any:
        return s.image(req.params["project"], req.params["name"])

    @t.route("GET", P + "/global/images", schema="ImageList")
    def image_list(req: Request) -> Any:
        p = req.params["project"]
        return s.page(req, s.images(p), "imageList", s.link(p, "global", "images"))

    @t.route("GET", P + "/zones/{zone}/machineTypes/{name}", schema="MachineType")
    def machine_type_get(req: Request) -> Any:
        return s.machine_type(req.params["project"], req.params["zone"], req.params["name"])

    @t.route("GET", P + "/zones/{zone}/machineTypes", schema="MachineTypeList")
    def machine_type_list(req: Request) -> Any:
        p, z = req.params["project"], req.params["zone"]
        return s.page(req, s.machine_types(p, z), "machineTypeList", s.link(p, f"zones/{z}", "machineTypes"))


def add_operation_routes(t: RouteTable, s: ComputeState) -> None:
    def poll(scope_of: str) -> Any:
        def handler(req: Request) -> Any:
            p = req.params["project"]
            scope = "global" if scope_of == "global" else f"{scope_of}/{req.params['where']}"
            return s.poll_operation(p, scope, req.params["operation"])

        return handler

    for scope_of, prefix in (
        ("zones", P + "/zones/{where}"),
        ("regions", P + "/regions/{where}"),
        ("global", P + "/global"),
    ):
        t.add("GET", prefix + "/operations/{operation}", poll(scope_of), schema="Operation")
        t.add("POST", prefix + "/operations/{operation}/wait", poll(scope_of), schema="Operation")
