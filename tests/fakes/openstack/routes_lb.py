"""Octavia v2: load balancers, listeners, pools, members, health monitors.

As general.inc says: creates answer 201, updates 202, deletes 204; every change puts the load
balancer in PENDING_UPDATE (PENDING_CREATE / PENDING_DELETE for its own create / delete) for
``lb_polls`` reads, then ACTIVE (or ERROR); while PENDING_* the whole tree is immutable (409).
Protocol combinations follow general.inc's two tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.openstack.checks import Checker
from tests.fakes.openstack.state import CloudState, Pending, filtered, now_octavia, octavia_error
from tests.fakes.server import Request, Response, RouteTable

#: listener protocol -> pool protocols it accepts (general.inc, "Protocol Combinations (Listener/Pool)")
LISTENER_POOL = {
    "HTTP": {"HTTP", "PROXY", "PROXYV2"},
    "HTTPS": {"HTTPS", "PROXY", "PROXYV2", "TCP"},
    "SCTP": {"SCTP"},
    "TCP": {"HTTP", "HTTPS", "PROXY", "PROXYV2", "TCP"},
    "TERMINATED_HTTPS": {"HTTP", "PROXY", "PROXYV2"},
    "UDP": {"UDP"},
}
#: pool protocol -> health monitor types (general.inc, "Protocol Combinations (Pool/Health Monitor)")
POOL_MONITOR = {
    "HTTP": {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO"},
    "HTTPS": {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO"},
    "PROXY": {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO"},
    "PROXYV2": {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO"},
    "SCTP": {"HTTP", "SCTP", "TCP", "UDP-CONNECT"},
    "TCP": {"HTTP", "HTTPS", "PING", "TCP", "TLS-HELLO"},
    "UDP": {"HTTP", "SCTP", "TCP", "UDP-CONNECT"},
}
LB_ALGORITHMS = {"ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP", "SOURCE_IP_PORT"}


def add_lb_routes(t: RouteTable, check: Checker, state: CloudState, url: Any) -> None:
    prefixes = ("/load-balancer/v2", "/load-balancer/v2.0")

    def route(method: str, path: str, fn: Callable[[Request], Any], resource: str,
              collection: str | None = None) -> None:
        op = f"{method} /v2/lbaas{path}".replace("{lb_id}", "{id}").replace("{pool_id}", "{id}")
        op = op.replace("{member_id}", "{id}")
        shape = None if method == "DELETE" else ("resource", resource, collection)
        for prefix in prefixes:
            check.add(t, "load-balancer", method, f"{prefix}/lbaas{path}", fn, op=op, shape=shape)

    def get(coll: dict[str, dict[str, Any]], rid: str, what: str) -> dict[str, Any]:
        item = coll.get(rid)
        if item is None:
            raise octavia_error(404, f"{what} {rid} not found.")
        return item

    def lb_of(item: dict[str, Any]) -> dict[str, Any]:
        return state.lbs[item["_lb"]]

    def public(item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith("_")}

    def tick_lb(lb_id: str) -> None:
        state.tick(lb_id)

    def require_mutable(lb: dict[str, Any]) -> None:
        if lb["provisioning_status"].startswith("PENDING_"):
            raise octavia_error(409, f"Invalid state {lb['provisioning_status']} of loadbalancer resource "
                                f"{lb['id']}")

    def children(lb_id: str) -> list[dict[str, Any]]:
        return [i for coll in (state.listeners, state.pools, state.members, state.monitors)
                for i in coll.values() if i["_lb"] == lb_id]

    def change(lb: dict[str, Any], item: dict[str, Any] | None, pending: str, on_done: Callable[[], None]) -> None:
        """Start an asynchronous change of ``item`` (or of the LB itself when None)."""
        lb["provisioning_status"] = "PENDING_UPDATE" if item is not None else pending
        if item is not None:
            item["provisioning_status"] = pending
            item["updated_at"] = now_octavia()
        failure = state.fail_next.pop("lb_create", None) if pending == "PENDING_CREATE" and item is None else None

        def finish(fail: bool) -> None:
            if failure:
                lb.update(provisioning_status="ERROR", operating_status="ERROR", updated_at=now_octavia())
                return
            on_done()
            if lb["id"] in state.lbs:
                lb.update(provisioning_status="ACTIVE", operating_status="ONLINE", updated_at=now_octavia())

        state.pending[lb["id"]] = Pending(state.lb_polls, finish)
        if state.lb_polls == 0:
            state.tick(lb["id"])

    def activate(item: dict[str, Any]) -> Callable[[], None]:
        def done() -> None:
            item["provisioning_status"] = "ACTIVE"
            if item.get("operating_status") == "OFFLINE":
                item["operating_status"] = "ONLINE"
        return done

    def common(body: dict[str, Any], lb_id: str) -> dict[str, Any]:
        t = now_octavia()
        return {"id": state.new_id(), "name": body.get("name", ""), "project_id": state_project(),
                "admin_state_up": body.get("admin_state_up", True), "created_at": t, "updated_at": None,
                "provisioning_status": "PENDING_CREATE", "operating_status": "OFFLINE",
                "tags": list(body.get("tags") or []), "_lb": lb_id}

    def state_project() -> str:
        from tests.fakes.openstack.state import PROJECT_ID

        return PROJECT_ID

    def body_of(req: Request, key: str) -> dict[str, Any]:
        body = (req.body or {}).get(key)
        if not isinstance(body, dict):
            raise octavia_error(400, f"Invalid input for field/attribute {key}.")
        return body

    # ------------------------------------------------------------ load balancers
    def lb_view(lb: dict[str, Any]) -> dict[str, Any]:
        out = public(lb)
        out["listeners"] = [{"id": i["id"]} for i in state.listeners.values() if i["_lb"] == lb["id"]]
        out["pools"] = [{"id": i["id"]} for i in state.pools.values() if i["_lb"] == lb["id"]]
        return out

    def create_lb(req: Request) -> Response:
        body = body_of(req, "loadbalancer")
        sub = state.subnets.get(body.get("vip_subnet_id", ""))
        if sub is None:
            raise octavia_error(400, f"Validation failure: Subnet {body.get('vip_subnet_id')} not found.")
        lb = common(body, "")
        lb["_lb"] = lb["id"]
        port = state.add_port({"network_id": sub["network_id"], "device_id": f"lb-{lb['id']}",
                               "device_owner": "Octavia", "name": f"octavia-lb-{lb['id']}",
                               "fixed_ips": [{"subnet_id": sub["id"]}], "security_groups": []})
        lb.update({"description": body.get("description", ""), "additional_vips": [],
                   "availability_zone": body.get("availability_zone"), "flavor_id": body.get("flavor_id"),
                   "provider": body.get("provider", "amphora"), "vip_address": port["fixed_ips"][0]["ip_address"],
                   "vip_network_id": sub["network_id"], "vip_port_id": port["id"], "vip_qos_policy_id": None,
                   "vip_subnet_id": sub["id"], "vip_vnic_type": "normal"})
        state.lbs[lb["id"]] = lb
        change(lb, None, "PENDING_CREATE", lambda: None)
        return Response(201, {"loadbalancer": lb_view(lb)})

    def list_lbs(req: Request) -> dict[str, Any]:
        for lb_id in list(state.lbs):
            tick_lb(lb_id)
        items = filtered(req, [lb_view(lb) for lb in state.lbs.values()], ("id", "name", "vip_subnet_id"))
        return state.page(req, items, "loadbalancers", url())

    def get_lb(req: Request) -> dict[str, Any]:
        tick_lb(req.params["lb_id"])
        return {"loadbalancer": lb_view(get(state.lbs, req.params["lb_id"], "Load Balancer"))}

    def delete_lb(req: Request) -> Response:
        lb = get(state.lbs, req.params["lb_id"], "Load Balancer")
        if lb["provisioning_status"].startswith("PENDING_"):
            require_mutable(lb)
        cascade = (req.q("cascade") or "").lower() == "true"
        if children(lb["id"]) and not cascade:
            raise octavia_error(400, f"Cannot delete Load Balancer {lb['id']} - it has children")

        def gone() -> None:
            for item in children(lb["id"]):
                for coll in (state.listeners, state.pools, state.members, state.monitors):
                    coll.pop(item["id"], None)
            state.ports.pop(lb["vip_port_id"], None)
            for fip in state.fips.values():
                if fip["port_id"] == lb["vip_port_id"]:
                    fip.update(port_id=None, fixed_ip_address=None, router_id=None, port_details=None,
                               status="DOWN")
            state.lbs.pop(lb["id"], None)

        lb["provisioning_status"] = "PENDING_DELETE"

        def finish(fail: bool) -> None:
            gone()

        state.pending[lb["id"]] = Pending(state.lb_polls, finish)
        if state.lb_polls == 0:
            state.tick(lb["id"])
        return Response(204)

    route("POST", "/loadbalancers", create_lb, "loadbalancer")
    route("GET", "/loadbalancers", list_lbs, "loadbalancer", "loadbalancers")
    route("GET", "/loadbalancers/{lb_id}", get_lb, "loadbalancer")
    route("DELETE", "/loadbalancers/{lb_id}", delete_lb, "loadbalancer")

    # ------------------------------------------------------------ children, one generic flow
    def create_child(coll: dict[str, dict[str, Any]], lb: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        require_mutable(lb)
        coll[item["id"]] = item
        change(lb, item, "PENDING_CREATE", activate(item))
        return item

    def update_child(item: dict[str, Any], fields: dict[str, Any]) -> None:
        lb = lb_of(item)
        require_mutable(lb)
        item.update(fields)
        change(lb, item, "PENDING_UPDATE", activate(item))

    def delete_child(coll: dict[str, dict[str, Any]], item: dict[str, Any]) -> Response:
        lb = lb_of(item)
        require_mutable(lb)

        def done() -> None:
            coll.pop(item["id"], None)

        change(lb, item, "PENDING_DELETE", done)
        return Response(204)

    def check_port(value: Any, field: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
            raise octavia_error(400, f"Invalid input for field/attribute {field}. Value: '{value}'. Value should "
                                "be between 1 and 65535.")
        return value

    # ------------------------------------------------------------ listeners
    def create_listener(req: Request) -> Response:
        body = body_of(req, "listener")
        lb = get(state.lbs, body.get("loadbalancer_id", ""), "Load Balancer")
        protocol = body.get("protocol")
        if protocol not in LISTENER_POOL:
            raise octavia_error(400, f"Invalid input for field/attribute protocol. Value: '{protocol}'.")
        port = check_port(body.get("protocol_port"), "protocol_port")
        for other in state.listeners.values():
            if other["_lb"] == lb["id"] and other["protocol_port"] == port and (
                    (other["protocol"] == "UDP") == (protocol == "UDP")):
                raise octavia_error(409, f"Another Listener on this Load Balancer is already using protocol_port "
                                    f"{port}")
        pool = None
        if body.get("default_pool_id"):
            pool = get(state.pools, body["default_pool_id"], "Pool")
            if pool["_lb"] != lb["id"] or pool["protocol"] not in LISTENER_POOL[protocol]:
                raise octavia_error(400, f"Validation failure: The pool protocol '{pool['protocol']}' is invalid "
                                    f"while the listener protocol is '{protocol}'.")
        item = common(body, lb["id"])
        item.update({
            "description": body.get("description", ""), "allowed_cidrs": list(body.get("allowed_cidrs") or []),
            "alpn_protocols": [], "client_authentication": "NONE", "client_ca_tls_container_ref": None,
            "client_crl_container_ref": None, "default_pool_id": None, "default_tls_container_ref": None,
            "hsts_include_subdomains": False, "hsts_max_age": None, "hsts_preload": False, "insert_headers": {},
            "l7policies": [], "loadbalancers": [{"id": lb["id"]}], "protocol": protocol, "protocol_port": port,
            "sni_container_refs": [], "timeout_client_data": 50000, "timeout_member_connect": 5000,
            "timeout_member_data": 50000, "timeout_tcp_inspect": 0, "tls_ciphers": None, "tls_versions": None,
        })
        create_child(state.listeners, lb, item)
        if pool is not None:
            pool["listeners"] = [{"id": item["id"]}]
        return Response(201, {"listener": listener_view(item)})

    def listener_view(item: dict[str, Any]) -> dict[str, Any]:
        out = public(item)
        pool = next((p for p in state.pools.values() if item["id"] in [x["id"] for x in p["listeners"]]), None)
        out["default_pool_id"] = pool["id"] if pool else None
        return out

    def list_listeners(req: Request) -> dict[str, Any]:
        items = [listener_view(i) for i in state.listeners.values()]
        if req.q("loadbalancer_id"):
            items = [i for i in items if i["loadbalancers"][0]["id"] == req.q("loadbalancer_id")]
        return state.page(req, filtered(req, items, ("id", "name", "protocol_port")), "listeners", url())

    def get_listener(req: Request) -> dict[str, Any]:
        item = get(state.listeners, req.params["id"], "Listener")
        tick_lb(item["_lb"])
        return {"listener": listener_view(item)}

    def update_listener(req: Request) -> Response:
        item = get(state.listeners, req.params["id"], "Listener")
        body = body_of(req, "listener")
        fields = {k: body[k] for k in ("name", "description", "admin_state_up", "allowed_cidrs") if k in body}
        if "protocol_port" in body or "protocol" in body:
            raise octavia_error(400, "Invalid input for field/attribute protocol_port: it cannot be changed.")
        if "default_pool_id" in body:
            for pool in state.pools.values():
                pool["listeners"] = [x for x in pool["listeners"] if x["id"] != item["id"]]
            if body["default_pool_id"]:
                pool = get(state.pools, body["default_pool_id"], "Pool")
                if pool["protocol"] not in LISTENER_POOL[item["protocol"]]:
                    raise octavia_error(400, "Validation failure: the pool protocol is invalid for this listener.")
                pool["listeners"] = [{"id": item["id"]}]
        update_child(item, fields)
        return Response(202, {"listener": listener_view(item)})

    def delete_listener(req: Request) -> Response:
        item = get(state.listeners, req.params["id"], "Listener")
        out = delete_child(state.listeners, item)
        for pool in state.pools.values():
            pool["listeners"] = [x for x in pool["listeners"] if x["id"] != item["id"]]
        return out

    route("POST", "/listeners", create_listener, "listener")
    route("GET", "/listeners", list_listeners, "listener", "listeners")
    route("GET", "/listeners/{id}", get_listener, "listener")
    route("PUT", "/listeners/{id}", update_listener, "listener")
    route("DELETE", "/listeners/{id}", delete_listener, "listener")

    # ------------------------------------------------------------ pools
    def create_pool(req: Request) -> Response:
        body = body_of(req, "pool")
        protocol = body.get("protocol")
        listener = None
        if body.get("listener_id"):
            listener = get(state.listeners, body["listener_id"], "Listener")
            lb = lb_of(listener)
            if protocol not in LISTENER_POOL[listener["protocol"]]:
                raise octavia_error(400, f"Validation failure: The pool protocol '{protocol}' is invalid while "
                                    f"the listener protocol is '{listener['protocol']}'.")
        elif body.get("loadbalancer_id"):
            lb = get(state.lbs, body["loadbalancer_id"], "Load Balancer")
        else:
            raise octavia_error(400, "Validation failure: loadbalancer_id or listener_id must be specified.")
        if protocol not in POOL_MONITOR:
            raise octavia_error(400, f"Invalid input for field/attribute protocol. Value: '{protocol}'.")
        if body.get("lb_algorithm") not in LB_ALGORITHMS:
            raise octavia_error(400, f"Invalid input for field/attribute lb_algorithm. Value: "
                                f"'{body.get('lb_algorithm')}'.")
        item = common(body, lb["id"])
        item.update({
            "description": body.get("description", ""), "alpn_protocols": None, "ca_tls_container_ref": None,
            "crl_container_ref": None, "healthmonitor_id": None, "lb_algorithm": body["lb_algorithm"],
            "listeners": [{"id": listener["id"]}] if listener else [], "loadbalancers": [{"id": lb["id"]}],
            "members": [], "protocol": protocol, "session_persistence": None, "tls_ciphers": None,
            "tls_container_ref": None, "tls_enabled": False, "tls_versions": None,
        })
        return Response(201, {"pool": pool_view(create_child(state.pools, lb, item))})

    def pool_view(item: dict[str, Any]) -> dict[str, Any]:
        out = public(item)
        out["members"] = [{"id": m["id"]} for m in state.members.values() if m["_pool"] == item["id"]]
        hm = next((h for h in state.monitors.values() if h["_pool"] == item["id"]), None)
        out["healthmonitor_id"] = hm["id"] if hm else None
        return out

    def list_pools(req: Request) -> dict[str, Any]:
        items = [pool_view(i) for i in state.pools.values()]
        if req.q("loadbalancer_id"):
            items = [i for i in items if i["loadbalancers"][0]["id"] == req.q("loadbalancer_id")]
        return state.page(req, filtered(req, items, ("id", "name")), "pools", url())

    def get_pool(req: Request) -> dict[str, Any]:
        item = get(state.pools, req.params["pool_id"], "Pool")
        tick_lb(item["_lb"])
        return {"pool": pool_view(item)}

    def delete_pool(req: Request) -> Response:
        return delete_child(state.pools, get(state.pools, req.params["pool_id"], "Pool"))

    def update_pool(req: Request) -> Response:
        item = get(state.pools, req.params["pool_id"], "Pool")
        body = body_of(req, "pool")
        if "protocol" in body:
            raise octavia_error(400, "Invalid input for field/attribute protocol: it cannot be changed.")
        if "lb_algorithm" in body and body["lb_algorithm"] not in LB_ALGORITHMS:
            raise octavia_error(400, f"Invalid input for field/attribute lb_algorithm. Value: "
                                f"'{body['lb_algorithm']}'.")
        update_child(item, {k: body[k] for k in ("name", "description", "lb_algorithm", "admin_state_up")
                            if k in body})
        return Response(202, {"pool": pool_view(item)})

    route("POST", "/pools", create_pool, "pool")
    route("PUT", "/pools/{pool_id}", update_pool, "pool")
    route("GET", "/pools", list_pools, "pool", "pools")
    route("GET", "/pools/{pool_id}", get_pool, "pool")
    route("DELETE", "/pools/{pool_id}", delete_pool, "pool")

    # ------------------------------------------------------------ members
    def member_view(item: dict[str, Any]) -> dict[str, Any]:
        out = public(item)
        hm = next((h for h in state.monitors.values() if h["_pool"] == item["_pool"]
                   and h["provisioning_status"] == "ACTIVE"), None)
        if item["provisioning_status"] != "ACTIVE":
            out["operating_status"] = "OFFLINE"
        elif hm is None:
            out["operating_status"] = "NO_MONITOR"
        else:
            out["operating_status"] = "ONLINE" if member_alive(item) else "ERROR"
        return out

    def member_alive(item: dict[str, Any]) -> bool:
        for port in state.ports.values():
            if any(f["ip_address"] == item["address"] for f in port["fixed_ips"]):
                srv = state.servers.get(port["device_id"])
                return bool(srv and srv["status"] == "ACTIVE")
        return False

    def create_member(req: Request) -> Response:
        pool = get(state.pools, req.params["pool_id"], "Pool")
        body = body_of(req, "member")
        address = body.get("address")
        if not isinstance(address, str) or not address:
            raise octavia_error(400, "Invalid input for field/attribute address.")
        port = check_port(body.get("protocol_port"), "protocol_port")
        for m in state.members.values():
            if m["_pool"] == pool["id"] and m["address"] == address and m["protocol_port"] == port:
                raise octavia_error(409, f"Duplicate member with address {address} and port {port}")
        lb = lb_of(pool)
        item = common(body, lb["id"])
        item.update({"_pool": pool["id"], "address": address, "backup": False, "monitor_address": None,
                     "monitor_port": body.get("monitor_port"), "protocol_port": port,
                     "subnet_id": body.get("subnet_id"), "vnic_type": "normal", "weight": body.get("weight", 1)})
        return Response(201, {"member": member_view(create_child(state.members, lb, item))})

    def list_members(req: Request) -> dict[str, Any]:
        pool = get(state.pools, req.params["pool_id"], "Pool")
        tick_lb(pool["_lb"])
        items = [member_view(m) for m in state.members.values() if m["_pool"] == pool["id"]]
        return state.page(req, filtered(req, items, ("id", "name", "address")), "members", url())

    def get_member(req: Request) -> dict[str, Any]:
        get(state.pools, req.params["pool_id"], "Pool")
        item = get(state.members, req.params["member_id"], "Member")
        tick_lb(item["_lb"])
        return {"member": member_view(item)}

    def delete_member(req: Request) -> Response:
        get(state.pools, req.params["pool_id"], "Pool")
        return delete_child(state.members, get(state.members, req.params["member_id"], "Member"))

    def update_member(req: Request) -> Response:
        get(state.pools, req.params["pool_id"], "Pool")
        item = get(state.members, req.params["member_id"], "Member")
        body = body_of(req, "member")
        fields = {k: body[k] for k in ("name", "weight", "admin_state_up", "monitor_port", "backup") if k in body}
        update_child(item, fields)
        return Response(202, {"member": member_view(item)})

    route("POST", "/pools/{pool_id}/members", create_member, "member")
    route("PUT", "/pools/{pool_id}/members/{member_id}", update_member, "member")
    route("GET", "/pools/{pool_id}/members", list_members, "member", "members")
    route("GET", "/pools/{pool_id}/members/{member_id}", get_member, "member")
    route("DELETE", "/pools/{pool_id}/members/{member_id}", delete_member, "member")

    # ------------------------------------------------------------ health monitors
    def create_monitor(req: Request) -> Response:
        body = body_of(req, "healthmonitor")
        pool = get(state.pools, body.get("pool_id", ""), "Pool")
        kind = body.get("type")
        if kind not in POOL_MONITOR[pool["protocol"]]:
            raise octavia_error(400, f"Validation failure: The associated pool protocol '{pool['protocol']}' is "
                                f"not compatible with the health monitor type '{kind}'.")
        if any(h["_pool"] == pool["id"] for h in state.monitors.values()):
            raise octavia_error(409, "This pool already has a health monitor")
        delay, timeout, retries = body.get("delay"), body.get("timeout"), body.get("max_retries")
        for field, value, low, high in (("delay", delay, 0, 2147483647), ("timeout", timeout, 0, 2147483647),
                                        ("max_retries", retries, 1, 10)):
            if not isinstance(value, int) or not low <= value <= high:
                raise octavia_error(400, f"Invalid input for field/attribute {field}. Value: '{value}'.")
        if timeout > delay:
            raise octavia_error(400, "Validation failure: The health monitor timeout must be less than or equal "
                                "to the delay.")
        http = kind in ("HTTP", "HTTPS")
        lb = lb_of(pool)
        item = common(body, lb["id"])
        item.update({"_pool": pool["id"], "delay": delay, "domain_name": None,
                     "expected_codes": body.get("expected_codes", "200") if http else None,
                     "http_method": body.get("http_method", "GET") if http else None,
                     "http_version": 1.0 if http else None, "max_retries": retries,
                     "max_retries_down": body.get("max_retries_down", 3), "pools": [{"id": pool["id"]}],
                     "timeout": timeout, "type": kind, "url_path": body.get("url_path", "/") if http else None})
        return Response(201, {"healthmonitor": public(create_child(state.monitors, lb, item))})

    def list_monitors(req: Request) -> dict[str, Any]:
        items = [public(h) for h in state.monitors.values()]
        return state.page(req, filtered(req, items, ("id", "name")), "healthmonitors", url())

    def get_monitor(req: Request) -> dict[str, Any]:
        item = get(state.monitors, req.params["id"], "Health Monitor")
        tick_lb(item["_lb"])
        return {"healthmonitor": public(item)}

    def delete_monitor(req: Request) -> Response:
        return delete_child(state.monitors, get(state.monitors, req.params["id"], "Health Monitor"))

    def update_monitor(req: Request) -> Response:
        item = get(state.monitors, req.params["id"], "Health Monitor")
        body = body_of(req, "healthmonitor")
        if "type" in body:
            raise octavia_error(400, "Invalid input for field/attribute type: it cannot be changed.")
        fields = {k: body[k] for k in ("name", "delay", "timeout", "max_retries", "max_retries_down", "url_path",
                                       "expected_codes", "http_method", "admin_state_up") if k in body}
        delay, timeout = fields.get("delay", item["delay"]), fields.get("timeout", item["timeout"])
        if timeout > delay:
            raise octavia_error(400, "Validation failure: The health monitor timeout must be less than or equal "
                                "to the delay.")
        update_child(item, fields)
        return Response(202, {"healthmonitor": public(item)})

    route("POST", "/healthmonitors", create_monitor, "healthmonitor")
    route("PUT", "/healthmonitors/{id}", update_monitor, "healthmonitor")
    route("GET", "/healthmonitors", list_monitors, "healthmonitor", "healthmonitors")
    route("GET", "/healthmonitors/{id}", get_monitor, "healthmonitor")
    route("DELETE", "/healthmonitors/{id}", delete_monitor, "healthmonitor")
