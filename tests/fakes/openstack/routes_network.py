"""Neutron v2.0: networks, subnets, routers (+ interfaces, external gateway), ports, security
groups and rules, floating IPs. Lists page with limit/marker and ``<collection>_links``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.openstack.checks import Checker
from tests.fakes.openstack.state import CloudState, filtered, neutron_error, now
from tests.fakes.server import Request, Response, RouteTable

V2 = "/network/v2.0"
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"


def _body(req: Request, key: str) -> dict[str, Any]:
    body = (req.body or {}).get(key)
    if not isinstance(body, dict):
        raise neutron_error(400, "BadRequest", f"Resource body required: expected '{key}'")
    return body


def add_network_routes(t: RouteTable, check: Checker, state: CloudState, url: Any) -> None:
    def route(method: str, path: str, fn: Callable[[Request], Any], op: str, resource: str,
              collection: str | None = None) -> None:
        shape = None if method == "DELETE" else ("resource", resource, collection)
        check.add(t, "network", method, V2 + path, fn, op=f"{method} /v2.0{op}", shape=shape)

    def touch(item: dict[str, Any]) -> None:
        item["revision_number"] += 1
        item["updated_at"] = now()

    # ------------------------------------------------------------ version document
    def versions(req: Request) -> dict[str, Any]:
        return {"versions": [{"id": "v2.0", "links": [{"href": f"{url()}/network/v2.0/", "rel": "self"}],
                              "status": "CURRENT"}]}

    for path in ("/network", "/network/"):
        check.add(t, "network", "GET", path, versions, op=None,
                  shape=("keys", "neutron/networks/versions-list-response.json"))

    # ------------------------------------------------------------ networks
    def create_network(req: Request) -> Response:
        body = _body(req, "network")
        if body.get("router:external"):
            raise neutron_error(403, "PolicyNotAuthorized", "(rule:create_network:router:external) is disallowed "
                                "by policy")
        return Response(201, {"network": state.add_network(body)})

    def list_networks(req: Request) -> dict[str, Any]:
        items = filtered(req, list(state.networks.values()), ("id", "name", "router:external", "status"))
        return state.page(req, items, "networks", url())

    def get_network(req: Request) -> dict[str, Any]:
        return {"network": state.get(state.networks, req.params["id"], "Network", "Network")}

    def delete_network(req: Request) -> Response:
        net = state.get(state.networks, req.params["id"], "Network", "Network")
        users = [p for p in state.ports.values() if p["network_id"] == net["id"]]
        if users:
            raise neutron_error(409, "NetworkInUse", f"Unable to complete operation on network {net['id']}. "
                                "There are one or more ports still in use on the network.")
        for sid in net["subnets"]:
            state.subnets.pop(sid, None)
        del state.networks[net["id"]]
        return Response(204)

    route("POST", "/networks", create_network, "/networks", "network")
    route("GET", "/networks", list_networks, "/networks", "network", "networks")
    route("GET", "/networks/{id}", get_network, "/networks/{id}", "network")
    route("DELETE", "/networks/{id}", delete_network, "/networks/{id}", "network")

    # ------------------------------------------------------------ subnets
    def create_subnet(req: Request) -> Response:
        body = _body(req, "subnet")
        net = state.get(state.networks, body.get("network_id", ""), "Network", "Network")
        if net["router:external"]:
            raise neutron_error(403, "PolicyNotAuthorized", "rule:create_subnet is disallowed by policy")
        sub = state.add_subnet(body)
        touch(net)
        return Response(201, {"subnet": sub})

    def list_subnets(req: Request) -> dict[str, Any]:
        items = filtered(req, list(state.subnets.values()), ("id", "name", "network_id", "cidr"))
        return state.page(req, items, "subnets", url())

    def get_subnet(req: Request) -> dict[str, Any]:
        return {"subnet": state.get(state.subnets, req.params["id"], "Subnet", "Subnet")}

    def delete_subnet(req: Request) -> Response:
        sub = state.get(state.subnets, req.params["id"], "Subnet", "Subnet")
        for p in state.ports.values():
            if any(f["subnet_id"] == sub["id"] for f in p["fixed_ips"]):
                raise neutron_error(409, "SubnetInUse", f"Unable to complete operation on subnet {sub['id']}: "
                                    "One or more ports have an IP allocation from this subnet.")
        del state.subnets[sub["id"]]
        net = state.networks[sub["network_id"]]
        net["subnets"].remove(sub["id"])
        touch(net)
        return Response(204)

    route("POST", "/subnets", create_subnet, "/subnets", "subnet")
    route("GET", "/subnets", list_subnets, "/subnets", "subnet", "subnets")
    route("GET", "/subnets/{id}", get_subnet, "/subnets/{id}", "subnet")
    route("DELETE", "/subnets/{id}", delete_subnet, "/subnets/{id}", "subnet")

    # ------------------------------------------------------------ routers
    def set_gateway(router: dict[str, Any], info: dict[str, Any] | None) -> None:
        for p in [p for p in state.ports.values() if p["device_id"] == router["id"]
                  and p["device_owner"] == ROUTER_GATEWAY]:
            del state.ports[p["id"]]
        router["external_gateway_info"] = None
        if not info:
            return
        ext = state.get(state.networks, info.get("network_id", ""), "Network", "Network")
        if not ext["router:external"]:
            raise neutron_error(400, "BadRequest", f"Bad router request: Network {ext['id']} is not a valid "
                                "external network.")
        port = state.add_port({"network_id": ext["id"], "device_id": router["id"], "device_owner": ROUTER_GATEWAY,
                               "security_groups": []})
        router["external_gateway_info"] = {
            "network_id": ext["id"], "enable_snat": info.get("enable_snat", True),
            "external_fixed_ips": [dict(f) for f in port["fixed_ips"]]}

    def create_router(req: Request) -> Response:
        body = _body(req, "router")
        router = state.base(body)
        router.update({"admin_state_up": True, "availability_zone_hints": [], "availability_zones": ["nova"],
                       "conntrack_helpers": [], "distributed": False, "external_gateway_info": None,
                       "flavor_id": None, "ha": False, "routes": [], "service_type_id": None, "status": "ACTIVE"})
        set_gateway(router, body.get("external_gateway_info"))
        state.routers[router["id"]] = router
        return Response(201, {"router": router})

    def list_routers(req: Request) -> dict[str, Any]:
        return state.page(req, filtered(req, list(state.routers.values()), ("id", "name")), "routers", url())

    def get_router(req: Request) -> dict[str, Any]:
        return {"router": state.get(state.routers, req.params["id"], "Router", "Router")}

    def update_router(req: Request) -> dict[str, Any]:
        router = state.get(state.routers, req.params["id"], "Router", "Router")
        body = _body(req, "router")
        if "external_gateway_info" in body:
            set_gateway(router, body["external_gateway_info"])
        for key in ("name", "description"):
            if key in body:
                router[key] = body[key]
        touch(router)
        return {"router": router}

    def delete_router(req: Request) -> Response:
        router = state.get(state.routers, req.params["id"], "Router", "Router")
        if any(p["device_id"] == router["id"] and p["device_owner"] == ROUTER_INTERFACE for p in state.ports.values()):
            raise neutron_error(409, "RouterInUse", f"Router {router['id']} still has ports")
        if any(f["router_id"] == router["id"] for f in state.fips.values()):
            raise neutron_error(409, "RouterInUse", f"Router {router['id']} still has floating IPs")
        set_gateway(router, None)
        del state.routers[router["id"]]
        return Response(204)

    def interface_answer(router: dict[str, Any], port: dict[str, Any]) -> dict[str, Any]:
        sub = port["fixed_ips"][0]["subnet_id"]
        return {"id": router["id"], "network_id": port["network_id"], "port_id": port["id"], "subnet_id": sub,
                "subnet_ids": [sub], "project_id": router["project_id"], "tenant_id": router["tenant_id"],
                "tags": []}

    def add_interface(req: Request) -> dict[str, Any]:
        router = state.get(state.routers, req.params["id"], "Router", "Router")
        sub = state.get(state.subnets, (req.body or {}).get("subnet_id", ""), "Subnet", "Subnet")
        for p in state.ports.values():
            if p["device_owner"] == ROUTER_INTERFACE and any(f["subnet_id"] == sub["id"] for f in p["fixed_ips"]):
                raise neutron_error(400, "BadRequest", f"Bad router request: Router already has a port on subnet "
                                    f"{sub['id']}.")
        port = state.add_port({"network_id": sub["network_id"], "device_id": router["id"],
                               "device_owner": ROUTER_INTERFACE, "security_groups": [],
                               "fixed_ips": [{"subnet_id": sub["id"], "ip_address": sub["gateway_ip"]}]})
        touch(router)
        return interface_answer(router, port)

    def remove_interface(req: Request) -> dict[str, Any]:
        router = state.get(state.routers, req.params["id"], "Router", "Router")
        sid = (req.body or {}).get("subnet_id", "")
        for p in list(state.ports.values()):
            if (p["device_id"] == router["id"] and p["device_owner"] == ROUTER_INTERFACE
                    and any(f["subnet_id"] == sid for f in p["fixed_ips"])):
                if any(f["router_id"] == router["id"] and f["port_id"] and any(
                        x["subnet_id"] == sid for x in state.ports[f["port_id"]]["fixed_ips"])
                       for f in state.fips.values()):
                    raise neutron_error(409, "RouterInterfaceInUseByFloatingIP",
                                        f"Router interface for subnet {sid} on router {router['id']} cannot be "
                                        "deleted, as it is required by one or more floating IPs.")
                del state.ports[p["id"]]
                touch(router)
                return interface_answer(router, p)
        raise neutron_error(404, "RouterInterfaceNotFoundForSubnet", f"Router {router['id']} has no interface on "
                            f"subnet {sid}")

    route("POST", "/routers", create_router, "/routers", "router")
    route("GET", "/routers", list_routers, "/routers", "router", "routers")
    route("GET", "/routers/{id}", get_router, "/routers/{id}", "router")
    route("PUT", "/routers/{id}", update_router, "/routers/{id}", "router")
    route("DELETE", "/routers/{id}", delete_router, "/routers/{id}", "router")
    route("PUT", "/routers/{id}/add_router_interface", add_interface, "/routers/{id}/add_router_interface",
          "router_interface", "bare")
    route("PUT", "/routers/{id}/remove_router_interface", remove_interface, "/routers/{id}/remove_router_interface",
          "router_interface", "bare")

    # ------------------------------------------------------------ ports
    def create_port(req: Request) -> Response:
        return Response(201, {"port": state.add_port(_body(req, "port"))})

    def list_ports(req: Request) -> dict[str, Any]:
        items = filtered(req, list(state.ports.values()), ("id", "name", "network_id", "device_id", "device_owner"))
        return state.page(req, items, "ports", url())

    def get_port(req: Request) -> dict[str, Any]:
        return {"port": state.get(state.ports, req.params["id"], "Port", "Port")}

    def update_port(req: Request) -> dict[str, Any]:
        port = state.get(state.ports, req.params["id"], "Port", "Port")
        body = _body(req, "port")
        if "security_groups" in body:
            for sg in body["security_groups"]:
                state.get(state.sgs, sg, "Security group", "SecurityGroup")
            port["security_groups"] = list(body["security_groups"])
        for key in ("name", "description"):
            if key in body:
                port[key] = body[key]
        touch(port)
        return {"port": port}

    def delete_port(req: Request) -> Response:
        port = state.get(state.ports, req.params["id"], "Port", "Port")
        if port["device_owner"] in (ROUTER_INTERFACE, ROUTER_GATEWAY):
            raise neutron_error(409, "PortInUse", f"Port {port['id']} cannot be deleted directly via the port API: "
                                "has device owner network:router_interface.")
        for fip in state.fips.values():
            if fip["port_id"] == port["id"]:
                fip.update(port_id=None, fixed_ip_address=None, router_id=None, port_details=None, status="DOWN")
        del state.ports[port["id"]]
        return Response(204)

    route("POST", "/ports", create_port, "/ports", "port")
    route("GET", "/ports", list_ports, "/ports", "port", "ports")
    route("GET", "/ports/{id}", get_port, "/ports/{id}", "port")
    route("PUT", "/ports/{id}", update_port, "/ports/{id}", "port")
    route("DELETE", "/ports/{id}", delete_port, "/ports/{id}", "port")

    # ------------------------------------------------------------ security groups and rules
    def create_sg(req: Request) -> Response:
        body = _body(req, "security_group")
        if body.get("name") == "default":
            raise neutron_error(409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.")
        return Response(201, {"security_group": state.sg_view(state.add_security_group(body))})

    def list_sgs(req: Request) -> dict[str, Any]:
        items = filtered(req, list(state.sgs.values()), ("id", "name"))
        return state.page(req, [state.sg_view(s) for s in items], "security_groups", url())

    def get_sg(req: Request) -> dict[str, Any]:
        return {"security_group": state.sg_view(state.get(state.sgs, req.params["id"], "Security group",
                                                          "SecurityGroup"))}

    def delete_sg(req: Request) -> Response:
        sg = state.get(state.sgs, req.params["id"], "Security group", "SecurityGroup")
        if sg["name"] == "default":
            raise neutron_error(409, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing "
                                "default security group.")
        if any(sg["id"] in p["security_groups"] for p in state.ports.values()):
            raise neutron_error(409, "SecurityGroupInUse", f"Security Group {sg['id']} in use.")
        for rid in [r["id"] for r in state.rules.values() if r["security_group_id"] == sg["id"]]:
            del state.rules[rid]
        del state.sgs[sg["id"]]
        return Response(204)

    def create_rule(req: Request) -> Response:
        rule = state.add_rule(_body(req, "security_group_rule"))
        touch(state.sgs[rule["security_group_id"]])
        return Response(201, {"security_group_rule": rule})

    def list_rules(req: Request) -> dict[str, Any]:
        items = filtered(req, list(state.rules.values()), ("id", "security_group_id", "direction"))
        return state.page(req, items, "security_group_rules", url())

    def get_rule(req: Request) -> dict[str, Any]:
        return {"security_group_rule": state.get(state.rules, req.params["id"], "Security group rule",
                                                 "SecurityGroupRule")}

    def delete_rule(req: Request) -> Response:
        rule = state.get(state.rules, req.params["id"], "Security group rule", "SecurityGroupRule")
        del state.rules[rule["id"]]
        return Response(204)

    route("POST", "/security-groups", create_sg, "/security-groups", "security_group")
    route("GET", "/security-groups", list_sgs, "/security-groups", "security_group", "security_groups")
    route("GET", "/security-groups/{id}", get_sg, "/security-groups/{id}", "security_group")
    route("DELETE", "/security-groups/{id}", delete_sg, "/security-groups/{id}", "security_group")
    route("POST", "/security-group-rules", create_rule, "/security-group-rules", "security_group_rule")
    route("GET", "/security-group-rules", list_rules, "/security-group-rules", "security_group_rule",
          "security_group_rules")
    route("GET", "/security-group-rules/{id}", get_rule, "/security-group-rules/{id}", "security_group_rule")
    route("DELETE", "/security-group-rules/{id}", delete_rule, "/security-group-rules/{id}", "security_group_rule")

    # ------------------------------------------------------------ floating IPs
    def router_for(port: dict[str, Any], ext_id: str) -> dict[str, Any]:
        """The router that connects the port's subnet to the external network (Neutron needs one)."""
        subnets = {f["subnet_id"] for f in port["fixed_ips"]}
        for p in state.ports.values():
            if p["device_owner"] == ROUTER_INTERFACE and subnets & {f["subnet_id"] for f in p["fixed_ips"]}:
                router = state.routers.get(p["device_id"])
                if router and (router["external_gateway_info"] or {}).get("network_id") == ext_id:
                    return router
        raise neutron_error(404, "ExternalGatewayForFloatingIPNotFound", f"External network {ext_id} is not "
                            f"reachable from subnet {sorted(subnets)}. Therefore, cannot associate Port "
                            f"{port['id']} with a Floating IP.")

    def associate(fip: dict[str, Any], port_id: str | None) -> None:
        if port_id is None:
            fip.update(port_id=None, fixed_ip_address=None, router_id=None, port_details=None, status="DOWN")
            return
        port = state.get(state.ports, port_id, "Port", "Port")
        router = router_for(port, fip["floating_network_id"])
        fip.update(port_id=port["id"], fixed_ip_address=port["fixed_ips"][0]["ip_address"], router_id=router["id"],
                   status="ACTIVE", port_details={
                       "status": port["status"], "name": port["name"], "admin_state_up": True,
                       "network_id": port["network_id"], "device_owner": port["device_owner"],
                       "mac_address": port["mac_address"], "device_id": port["device_id"]})

    def create_fip(req: Request) -> Response:
        body = _body(req, "floatingip")
        ext = state.get(state.networks, body.get("floating_network_id", ""), "Network", "Network")
        if not ext["router:external"]:
            raise neutron_error(400, "BadRequest", f"Bad floatingip request: Network {ext['id']} is not a valid "
                                "external network.")
        fip = state.base(body)
        del fip["name"]
        fip.update({"floating_network_id": ext["id"], "floating_ip_address": "", "fixed_ip_address": None,
                    "port_id": None, "router_id": None, "status": "DOWN", "dns_domain": "", "dns_name": "",
                    "port_details": None, "port_forwardings": [], "qos_policy_id": None})
        associate(fip, body.get("port_id"))
        fip["floating_ip_address"] = state.allocate_ip(state.subnets[ext["subnets"][0]])
        state.fips[fip["id"]] = fip
        return Response(201, {"floatingip": fip})

    def list_fips(req: Request) -> dict[str, Any]:
        items = filtered(req, list(state.fips.values()), ("id", "port_id", "floating_ip_address",
                                                          "floating_network_id"))
        return state.page(req, items, "floatingips", url())

    def get_fip(req: Request) -> dict[str, Any]:
        return {"floatingip": state.get(state.fips, req.params["id"], "Floating IP", "FloatingIP")}

    def update_fip(req: Request) -> dict[str, Any]:
        fip = state.get(state.fips, req.params["id"], "Floating IP", "FloatingIP")
        body = _body(req, "floatingip")
        if "port_id" in body:
            associate(fip, body["port_id"])
        touch(fip)
        return {"floatingip": fip}

    def delete_fip(req: Request) -> Response:
        fip = state.get(state.fips, req.params["id"], "Floating IP", "FloatingIP")
        del state.fips[fip["id"]]
        return Response(204)

    route("POST", "/floatingips", create_fip, "/floatingips", "floatingip")
    route("GET", "/floatingips", list_fips, "/floatingips", "floatingip", "floatingips")
    route("GET", "/floatingips/{id}", get_fip, "/floatingips/{id}", "floatingip")
    route("PUT", "/floatingips/{id}", update_fip, "/floatingips/{id}", "floatingip")
    route("DELETE", "/floatingips/{id}", delete_fip, "/floatingips/{id}", "floatingip")
