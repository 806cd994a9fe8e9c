"""Nova v2.1: servers (+ suspend/resume/reboot actions), key pairs, flavors, availability zones.

Bodies follow the microversion the client asked for (openstacksdk 4.22 asks servers at 2.100,
key pairs at 2.10, flavors at 2.61); the checks validate them with Tempest's schema for that
microversion and compare keys with Nova's api sample of that microversion.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from tests.fakes.openstack.checks import Checker, microversion
from tests.fakes.openstack.state import PROJECT_ID, USER_ID, CloudState, Pending, fingerprint, nova_error, now
from tests.fakes.server import Request, Response, RouteTable

KEYPAIR_NAME = re.compile(r"^[a-zA-Z0-9 _-]{1,255}$")
#: Nova >= 2.92 also allows '.' and '@'
KEYPAIR_NAME_292 = re.compile(r"^[a-zA-Z0-9 _.@-]{1,255}$")
SERVER_NAME_MAX = 255
HOST_ID = "a4ec4d9b1d6e2f3f0a8c7b6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"


def _mv(req: Request) -> tuple[int, int]:
    major, minor = microversion(req).split(".")
    return int(major), int(minor)


def add_compute_routes(t: RouteTable, check: Checker, state: CloudState, url: Any) -> None:
    base = "/compute/v2.1"

    def links(kind: str, rid: str) -> list[dict[str, str]]:
        return [{"href": f"{url()}{base}/{kind}/{rid}", "rel": "self"},
                {"href": f"{url()}/compute/{kind}/{rid}", "rel": "bookmark"}]

    def flavor_spec(fid: str) -> dict[str, Any] | None:
        return next((f for f in state.catalog.flavors if f["id"] == fid or f["name"] == fid), None)

    # ------------------------------------------------------------ server views
    def server_view(srv: dict[str, Any], *, detail_list: bool = False) -> dict[str, Any]:
        addresses: dict[str, list[dict[str, Any]]] = {}
        for port in state.server_ports(srv["id"]):
            net = state.networks[port["network_id"]]
            entries = addresses.setdefault(net["name"], [])
            for fixed in port["fixed_ips"]:
                entries.append({"addr": fixed["ip_address"], "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                                "OS-EXT-IPS:type": "fixed", "version": 4})
            for fip in state.fips.values():
                if fip["port_id"] == port["id"]:
                    entries.append({"addr": fip["floating_ip_address"], "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
                                    "OS-EXT-IPS:type": "floating", "version": 4})
        sg_names = sorted({state.sgs[sg]["name"] for p in state.server_ports(srv["id"]) for sg in p["security_groups"]
                           if sg in state.sgs})
        fl = srv["flavor"]
        body: dict[str, Any] = {
            "accessIPv4": "", "accessIPv6": "", "addresses": addresses, "created": srv["created"],
            "description": None, "locked": False, "locked_reason": None,
            "flavor": {"disk": fl["disk"], "ephemeral": 0, "extra_specs": {}, "original_name": fl["name"],
                       "ram": fl["ram"], "swap": 0, "vcpus": fl["vcpus"]},
            "hostId": "" if srv["status"] in ("BUILD", "ERROR") else HOST_ID,
            "id": srv["id"],
            "image": "" if srv["boot_volume"] else {"id": srv["image_id"], "links": [
                {"href": f"{url()}/compute/images/{srv['image_id']}", "rel": "bookmark"}], "properties": {}},
            "key_name": srv["key_name"], "links": links("servers", srv["id"]), "metadata": srv["metadata"],
            "name": srv["name"], "config_drive": "", "OS-DCF:diskConfig": "MANUAL",
            "OS-EXT-AZ:availability_zone": srv["az"] if srv["status"] != "BUILD" else "",
            "OS-EXT-SRV-ATTR:hostname": re.sub(r"[^a-z0-9-]", "-", srv["name"].lower())[:63] or "server",
            "OS-EXT-STS:power_state": srv["power_state"], "OS-EXT-STS:task_state": srv["task_state"],
            "OS-EXT-STS:vm_state": srv["vm_state"],
            "os-extended-volumes:volumes_attached": (
                [{"id": srv["boot_volume"], "delete_on_termination": True}] if srv["boot_volume"] else []),
            "OS-SRV-USG:launched_at": srv["launched_at"], "OS-SRV-USG:terminated_at": None,
            "pinned_availability_zone": srv["pinned_az"], "progress": 0, "scheduler_hints": {},
            "security_groups": [{"name": n} for n in sg_names], "server_groups": [], "status": srv["status"],
            "tags": [], "tenant_id": PROJECT_ID, "trusted_image_certificates": None, "updated": srv["updated"],
            "user_id": USER_ID,
        }
        if srv.get("fault"):
            body["fault"] = srv["fault"]
        if detail_list:
            del body["server_groups"]  # only GET /servers/{id} carries it (2.71)
        return body

    def find_server(req: Request) -> dict[str, Any]:
        srv = state.servers.get(req.params["server_id"])
        if srv is None:
            raise nova_error(404, f"Instance {req.params['server_id']} could not be found.")
        return srv

    def settle(srv: dict[str, Any], **fields: Any) -> None:
        srv.update(fields)
        srv["updated"] = now()

    # ------------------------------------------------------------ servers
    def create_server(req: Request) -> Response:
        spec = (req.body or {}).get("server")
        if not isinstance(spec, dict):
            raise nova_error(400, "Invalid input for field/attribute server.")
        name = spec.get("name", "")
        if not name or len(name) > SERVER_NAME_MAX or name.strip() != name:
            raise nova_error(400, f"Invalid input for field/attribute name. Value: {name}.")
        flavor = flavor_spec(str(spec.get("flavorRef", "")))
        if flavor is None:
            raise nova_error(400, f"Flavor {spec.get('flavorRef')} could not be found.")
        bdm = spec.get("block_device_mapping_v2") or []
        root = next((b for b in bdm if b.get("boot_index") in (0, "0")), None)
        image_id = spec.get("imageRef") or (root or {}).get("uuid", "")
        if not any(i["id"] == image_id for i in state.catalog.images):
            raise nova_error(400, f"Image {image_id} could not be found.")
        if root is not None:
            size = root.get("volume_size")
            if not isinstance(size, int) or size < flavor["disk"] or size < 1:
                raise nova_error(400, f"Volume is smaller than the minimum size specified in image metadata. "
                                 f"Volume size is {size} bytes, minimum size is {flavor['disk']} GB.")
        key_name = spec.get("key_name")
        if key_name is not None and key_name not in state.keypairs:
            raise nova_error(400, "Invalid key_name provided.")
        az = spec.get("availability_zone") or "nova"
        if az not in {z for z, up in state.catalog.zones if up}:
            raise nova_error(400, "The requested availability zone is not available")
        networks = spec.get("networks")
        if not networks or not isinstance(networks, list):
            raise nova_error(409, "Multiple possible networks found, use a Network ID to be more specific.")
        sid = state.new_id()
        bound: list[str] = []
        for net in networks:
            if "port" in net:
                port = state.ports.get(net["port"])
                if port is None:
                    raise nova_error(404, f"Port id {net['port']} could not be found.")
                if port["device_id"]:
                    raise nova_error(409, f"Port {port['id']} is still in use.")
                bound.append(port["id"])
            elif "uuid" in net:
                if net["uuid"] not in state.networks:
                    raise nova_error(400, f"Network {net['uuid']} could not be found.")
            else:
                raise nova_error(400, "Bad networks format")
        for name_ in [g.get("name") for g in spec.get("security_groups") or []]:
            if not any(sg["name"] == name_ or sg["id"] == name_ for sg in state.sgs.values()):
                raise nova_error(400, f"Security group {name_} not found for project {PROJECT_ID}.")
        # ports are bound only once every check passed: a 4xx leaves nothing behind
        for port_id in bound:
            port = state.ports[port_id]
            port.update(device_id=sid, device_owner=f"compute:{az}", status="ACTIVE")
        for net in networks:
            if "uuid" in net:
                sgs = [sg["id"] for g in spec.get("security_groups") or [{"name": "default"}]
                       for sg in state.sgs.values() if sg["name"] == g.get("name")]
                port = state.add_port({"network_id": net["uuid"], "device_id": sid, "device_owner": f"compute:{az}",
                                       "security_groups": sgs})
                state.nova_ports.add(port["id"])
        t = now()
        srv = {"id": sid, "name": name, "flavor": flavor, "image_id": image_id, "key_name": key_name,
               "metadata": dict(spec.get("metadata") or {}), "az": az,
               "pinned_az": spec.get("availability_zone"), "created": t, "updated": t, "launched_at": None,
               "status": "BUILD", "vm_state": "building", "task_state": "scheduling", "power_state": 0,
               "boot_volume": state.new_id() if root is not None else None}
        state.servers[sid] = srv
        failure = state.fail_next.pop("server_create", None)

        def built(fail: bool) -> None:
            if failure:
                settle(srv, status="ERROR", vm_state="error", task_state=None,
                       fault={"code": 500, "created": now(), "message": failure})
            else:
                settle(srv, status="ACTIVE", vm_state="active", task_state=None, power_state=1,
                       launched_at=now()[:-1] + ".000000")

        state.pending[sid] = Pending(state.build_polls, built)
        if state.build_polls == 0:
            state.tick(sid)
        body = {"server": {"OS-DCF:diskConfig": "MANUAL", "adminPass": secrets.token_urlsafe(9), "id": sid,
                           "links": links("servers", sid),
                           "security_groups": [{"name": g.get("name")} for g in spec.get("security_groups") or
                                               [{"name": "default"}]]}}
        return Response(202, body)

    def list_servers_detail(req: Request) -> dict[str, Any]:
        items = list(state.servers.values())
        for srv in items:
            state.tick(srv["id"])
        items = [s for s in state.servers.values()]
        if req.q("name"):
            rx = re.compile(req.q("name") or "")
            items = [s for s in items if rx.search(s["name"])]
        return state.page(req, [server_view(s, detail_list=True) for s in items], "servers", url())

    def get_server(req: Request) -> dict[str, Any]:
        state.tick(req.params["server_id"])
        return {"server": server_view(find_server(req))}

    def delete_server(req: Request) -> Response:
        srv = find_server(req)
        if srv["task_state"] == "deleting":
            return Response(204)
        settle(srv, task_state="deleting")

        def gone(fail: bool) -> None:
            state.servers.pop(srv["id"], None)
            for port in state.server_ports(srv["id"]):
                if port["id"] in state.nova_ports:
                    state.ports.pop(port["id"], None)
                    state.nova_ports.discard(port["id"])
                    for fip in state.fips.values():
                        if fip["port_id"] == port["id"]:
                            fip.update(port_id=None, fixed_ip_address=None, port_details=None, status="DOWN")
                else:
                    port.update(device_id="", device_owner="", status="DOWN")

        state.pending[srv["id"]] = Pending(state.build_polls, gone)
        if state.build_polls == 0:
            state.tick(srv["id"])
        return Response(204)

    def action(req: Request) -> Response:
        srv = find_server(req)
        body = req.body or {}
        name = next(iter(body), "")
        if srv["task_state"] is not None:
            raise nova_error(409, f"Cannot '{name}' instance {srv['id']} while it is in task_state "
                             f"{srv['task_state']}")
        if name == "suspend":
            need, task, final = ("active",), "suspending", {"status": "SUSPENDED", "vm_state": "suspended",
                                                             "power_state": 7}
        elif name == "resume":
            need, task, final = ("suspended",), "resuming", {"status": "ACTIVE", "vm_state": "active",
                                                             "power_state": 1}
        elif name == "reboot":
            kind = (body.get("reboot") or {}).get("type", "SOFT")
            if kind not in ("SOFT", "HARD"):
                raise nova_error(400, "Invalid input for field/attribute type.")
            need, task = ("active",), "reboot_started" if kind == "SOFT" else "reboot_started_hard"
            final = {"status": "ACTIVE", "vm_state": "active", "power_state": 1}
            srv["status"] = "REBOOT" if kind == "SOFT" else "HARD_REBOOT"
        else:
            raise nova_error(400, f"There is no such action: {name}")
        if srv["vm_state"] not in need:
            if name == "reboot":
                srv["status"] = "ACTIVE" if srv["vm_state"] == "active" else srv["status"]
            raise nova_error(409, f"Cannot '{name}' instance {srv['id']} while it is in vm_state {srv['vm_state']}")
        settle(srv, task_state=task)
        state.pending[srv["id"]] = Pending(state.build_polls, lambda fail: settle(srv, task_state=None, **final))
        if state.build_polls == 0:
            state.tick(srv["id"])
        return Response(202)

    server_shape = ("nova", "servers", "get_server", "servers", "server-get-resp.json.tpl")
    check.add(t, "compute", "POST", f"{base}/servers", create_server, op="POST /servers",
              shape=("nova", "servers", "create_server_with_admin_pass", "servers", "server-create-resp.json.tpl"))
    check.add(t, "compute", "GET", f"{base}/servers/detail", list_servers_detail, op="GET /servers/detail",
              shape=("nova", "servers", "list_servers_detail", "servers", "servers-details-resp.json.tpl"))
    check.add(t, "compute", "GET", f"{base}/servers/{{server_id}}", get_server, op="GET /servers/{id}",
              shape=server_shape)
    check.add(t, "compute", "DELETE", f"{base}/servers/{{server_id}}", delete_server, op="DELETE /servers/{id}",
              shape=("nova", "servers", "delete_server", "", ""))

    # the api-ref lists each action under its own entry: the op follows the request body
    check.add(t, "compute", "POST", f"{base}/servers/{{server_id}}/action", action,
              op=lambda req: f"POST /servers/{{id}}/action {next(iter(req.body or {}), '')}",
              shape=("nova", "servers", "server_actions_common_schema", "", ""))

    # ------------------------------------------------------------ key pairs
    def keypair_view(kp: dict[str, Any], req: Request, *, with_user: bool = True) -> dict[str, Any]:
        out = {"fingerprint": kp["fingerprint"], "name": kp["name"], "type": kp["type"],
               "public_key": kp["public_key"]}
        if with_user:
            out["user_id"] = USER_ID
        return out

    def create_keypair(req: Request) -> Response:
        spec = (req.body or {}).get("keypair") or {}
        name = spec.get("name", "")
        rx = KEYPAIR_NAME_292 if _mv(req) >= (2, 92) else KEYPAIR_NAME
        if not isinstance(name, str) or not rx.match(name) or name.strip() != name:
            raise nova_error(400, "Keypair data is invalid: Keypair name contains unsafe characters")
        if name in state.keypairs:
            raise nova_error(409, f"Key pair '{name}' already exists.")
        public_key = spec.get("public_key")
        if not public_key:
            raise nova_error(400, "Keypair data is invalid: this fake only imports keys (send public_key)")
        kp = {"name": name, "public_key": public_key, "type": spec.get("type", "ssh"),
              "fingerprint": fingerprint(public_key), "created_at": now()}
        state.keypairs[name] = kp
        status = 201 if _mv(req) >= (2, 2) else 200
        return Response(status, {"keypair": keypair_view(kp, req)})

    def list_keypairs(req: Request) -> dict[str, Any]:
        return {"keypairs": [{"keypair": keypair_view(k, req, with_user=False)} for k in state.keypairs.values()]}

    def find_keypair(req: Request) -> dict[str, Any]:
        kp = state.keypairs.get(req.params["name"])
        if kp is None:
            raise nova_error(404, f"Keypair {req.params['name']} not found for user {USER_ID}")
        return kp

    def get_keypair(req: Request) -> dict[str, Any]:
        kp = find_keypair(req)
        body = keypair_view(kp, req)
        body.update({"created_at": kp["created_at"][:-1] + ".000000", "deleted": False, "deleted_at": None,
                     "id": 1, "updated_at": None})
        return {"keypair": body}

    def delete_keypair(req: Request) -> Response:
        state.keypairs.pop(find_keypair(req)["name"])
        return Response(204 if _mv(req) >= (2, 2) else 202)

    check.add(t, "compute", "POST", f"{base}/os-keypairs", create_keypair, op="POST /os-keypairs",
              shape=("nova", "keypairs", "create_keypair", "os-keypairs", "keypairs-import-post-resp.json.tpl"))
    check.add(t, "compute", "GET", f"{base}/os-keypairs", list_keypairs, op="GET /os-keypairs",
              shape=("nova", "keypairs", "list_keypairs", "os-keypairs", "keypairs-list-resp.json.tpl"))
    check.add(t, "compute", "GET", f"{base}/os-keypairs/{{name}}", get_keypair, op="GET /os-keypairs/{id}",
              shape=("nova", "keypairs", "get_keypair", "os-keypairs", "keypairs-get-resp.json.tpl"))
    check.add(t, "compute", "DELETE", f"{base}/os-keypairs/{{name}}", delete_keypair, op="DELETE /os-keypairs/{id}",
              shape=("nova", "keypairs", "delete_keypair", "", ""))

    # ------------------------------------------------------------ flavors, zones
    def flavor_view(f: dict[str, Any]) -> dict[str, Any]:
        return {"OS-FLV-DISABLED:disabled": False, "disk": f["disk"], "OS-FLV-EXT-DATA:ephemeral": 0,
                "id": f["id"], "links": links("flavors", f["id"]), "name": f["name"],
                "os-flavor-access:is_public": True, "ram": f["ram"], "swap": 0, "vcpus": f["vcpus"],
                "rxtx_factor": 1.0, "description": None, "extra_specs": {}}

    def list_flavors(req: Request) -> dict[str, Any]:
        return state.page(req, [flavor_view(f) for f in state.catalog.flavors], "flavors", url())

    def get_flavor(req: Request) -> dict[str, Any]:
        f = next((f for f in state.catalog.flavors if f["id"] == req.params["flavor_id"]), None)
        if f is None:
            raise nova_error(404, f"Flavor {req.params['flavor_id']} could not be found.")
        return {"flavor": flavor_view(f)}

    check.add(t, "compute", "GET", f"{base}/flavors/detail", list_flavors, op="GET /flavors/detail",
              shape=("nova", "flavors", "list_flavors_details", "flavors", "flavors-detail-resp.json.tpl"))
    check.add(t, "compute", "GET", f"{base}/flavors/{{flavor_id}}", get_flavor, op="GET /flavors/{id}",
              shape=("nova", "flavors", "create_update_get_flavor_details", "flavors", "flavor-get-resp.json.tpl"))

    def list_zones(req: Request) -> dict[str, Any]:
        return {"availabilityZoneInfo": [{"zoneName": z, "zoneState": {"available": up}, "hosts": None}
                                         for z, up in state.catalog.zones]}

    check.add(t, "compute", "GET", f"{base}/os-availability-zone", list_zones, op="GET /os-availability-zone",
              shape=("nova", "availability_zone", "list_availability_zone_list", "os-availability-zone",
                     "availability-zone-list-resp.json.tpl"))
