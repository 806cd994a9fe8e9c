"""Microsoft.Network routes of the fake: VNets and subnets, NSGs, NICs, public IPs, load balancers.

Stored bodies hold what the client set; the back-references Azure reports (a subnet's
``ipConfigurations``, an NSG's ``networkInterfaces``, a backend pool's ``backendIPConfigurations``...)
are computed when a resource is rendered, so they are always consistent.
"""

from __future__ import annotations

import copy
import ipaddress
import uuid
from typing import Any

from tests.fakes.azure.state import ArmState, arm_error, bad, rg_prefix
from tests.fakes.server import Request, Response, RouteTable

NET = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network"
T_VNET = "Microsoft.Network/virtualNetworks"
T_SUBNET = "Microsoft.Network/virtualNetworks/subnets"
T_NSG = "Microsoft.Network/networkSecurityGroups"
T_NIC = "Microsoft.Network/networkInterfaces"
T_PIP = "Microsoft.Network/publicIPAddresses"
T_LB = "Microsoft.Network/loadBalancers"

#: the six rules every NSG has (Azure documents them; priorities 65000-65500)
DEFAULT_RULES = [
    ("AllowVnetInBound", "Inbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"),
    ("AllowAzureLoadBalancerInBound", "Inbound", 65001, "AzureLoadBalancer", "*", "Allow"),
    ("DenyAllInBound", "Inbound", 65500, "*", "*", "Deny"),
    ("AllowVnetOutBound", "Outbound", 65000, "VirtualNetwork", "VirtualNetwork", "Allow"),
    ("AllowInternetOutBound", "Outbound", 65001, "*", "Internet", "Allow"),
    ("DenyAllOutBound", "Outbound", 65500, "*", "*", "Deny"),
]


def etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def props(res: dict[str, Any]) -> dict[str, Any]:
    return res.setdefault("properties", {})


def ref_id(obj: Any) -> str | None:
    return obj.get("id") if isinstance(obj, dict) else None


class Network:
    def __init__(self, state: ArmState) -> None:
        self.s = state

    # ------------------------------------------------------------ lookups
    def nics(self) -> list[dict[str, Any]]:
        return [r for r in self.s.resources.values() if r["type"] == T_NIC]

    def ip_configs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [(nic, ipc) for nic in self.nics() for ipc in props(nic).get("ipConfigurations", [])]

    def same(self, a: str | None, b: str | None) -> bool:
        return bool(a) and bool(b) and a.lower() == b.lower()  # type: ignore[union-attr]

    # ------------------------------------------------------------ rendering
    def render(self, res: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(res)
        p = props(out)
        rid = res["id"]
        if res["type"] == T_VNET:
            p["subnets"] = [self.render(sn) for sn in self.subnets_of(rid)]
        elif res["type"] == T_SUBNET:
            used = [{"id": ipc["id"]} for _, ipc in self.ip_configs()
                    if self.same(ref_id(props(ipc).get("subnet")), rid)]
            if used:
                p["ipConfigurations"] = used
        elif res["type"] == T_NSG:
            p["defaultSecurityRules"] = [self.default_rule(rid, *r) for r in DEFAULT_RULES]
            nics = [{"id": n["id"]} for n in self.nics()
                    if self.same(ref_id(props(n).get("networkSecurityGroup")), rid)]
            if nics:
                p["networkInterfaces"] = nics
            subnets = [{"id": sn["id"]} for sn in self.s.resources.values() if sn["type"] == T_SUBNET
                       and self.same(ref_id(props(sn).get("networkSecurityGroup")), rid)]
            if subnets:
                p["subnets"] = subnets
        elif res["type"] == T_NIC:
            vm = next((v for v in self.s.resources.values() if v["type"] == "Microsoft.Compute/virtualMachines"
                       and any(self.same(n.get("id"), rid)
                               for n in props(v).get("networkProfile", {}).get("networkInterfaces", []))), None)
            if vm is not None:
                p["virtualMachine"] = {"id": vm["id"]}
        elif res["type"] == T_PIP:
            user = self.pip_user(rid)
            if user:
                p["ipConfiguration"] = {"id": user}
        elif res["type"] == T_LB:
            for pool in p.get("backendAddressPools", []):
                members = [{"id": ipc["id"]} for _, ipc in self.ip_configs()
                           if any(self.same(ref_id(bp), pool["id"])
                                  for bp in props(ipc).get("loadBalancerBackendAddressPools", []))]
                if members:
                    props(pool)["backendIPConfigurations"] = members
        return out

    def default_rule(self, nsg_id: str, name: str, direction: str, priority: int, src: str, dst: str,
                     access: str) -> dict[str, Any]:
        return {"id": f"{nsg_id}/defaultSecurityRules/{name}", "name": name, "etag": etag(),
                "type": "Microsoft.Network/networkSecurityGroups/defaultSecurityRules",
                "properties": {"description": f"Default rule {name}", "protocol": "*", "sourcePortRange": "*",
                               "destinationPortRange": "*", "sourceAddressPrefix": src,
                               "destinationAddressPrefix": dst, "access": access, "priority": priority,
                               "direction": direction, "provisioningState": "Succeeded",
                               "sourcePortRanges": [], "destinationPortRanges": [],
                               "sourceAddressPrefixes": [], "destinationAddressPrefixes": []}}

    def subnets_of(self, vnet_id: str) -> list[dict[str, Any]]:
        prefix = vnet_id.lower() + "/subnets/"
        return [r for k, r in self.s.resources.items() if k.startswith(prefix)]

    def pip_user(self, pip_id: str) -> str | None:
        for _, ipc in self.ip_configs():
            if self.same(ref_id(props(ipc).get("publicIPAddress")), pip_id):
                return ipc["id"]
        for lb in (r for r in self.s.resources.values() if r["type"] == T_LB):
            for fe in props(lb).get("frontendIPConfigurations", []):
                if self.same(ref_id(props(fe).get("publicIPAddress")), pip_id):
                    return fe["id"]
        return None

    # ------------------------------------------------------------ generic ARM verbs
    def new(self, req: Request, rtype: str, rid: str, name: str) -> dict[str, Any]:
        body = req.body if isinstance(req.body, dict) else {}
        res = {"id": rid, "name": name, "type": rtype, "etag": etag()}
        if rtype != T_SUBNET:
            res["location"] = body.get("location") or "eastus"
            if body.get("tags"):
                res["tags"] = body["tags"]
        return res

    def put(self, req: Request, rtype: str, rid: str, build: Any) -> Response:
        """Create or replace ``rid``: ``build(old)`` returns the new stored body (raising ARM errors)."""
        sub, rg = req.params["sub"], req.params["rg"]
        self.s.check_group(sub, rg)
        old = self.s.get(rid)
        res = build(old)
        state_before = copy.deepcopy(old)
        props(res)["provisioningState"] = "Updating"
        if old is None:
            props(res)["resourceGuid"] = str(uuid.uuid4()) if rtype != T_SUBNET else None
            if props(res)["resourceGuid"] is None:
                del props(res)["resourceGuid"]
        else:
            if "resourceGuid" in props(old):
                props(res)["resourceGuid"] = props(old)["resourceGuid"]
        self.s.put(res)

        def done() -> None:
            props(res)["provisioningState"] = "Succeeded"

        def failed() -> None:
            if state_before is None:
                props(res)["provisioningState"] = "Failed"  # ARM keeps a failed resource
            else:
                self.s.put(state_before)

        op = self.s.start_op(req, "Microsoft.Network", f"PUT {rtype.rsplit('/', 1)[-1]}", done, failed)
        return self.s.accepted_put(req, op, sub, self.render(res), old is None)

    def delete(self, req: Request, rid: str, check: Any = None, after: Any = None) -> Response:
        sub = req.params["sub"]
        res = self.s.get(rid)
        if res is None:
            return Response(204, None)  # ARM: deleting what is not there succeeds with 204
        if check is not None:
            check(res)
        before = props(res).get("provisioningState")
        props(res)["provisioningState"] = "Deleting"

        def done() -> None:
            self.s.drop(rid)
            for child in list(self.subnets_of(rid)):
                self.s.drop(child["id"])
            if after is not None:
                after(res)

        def failed() -> None:
            props(res)["provisioningState"] = before

        op = self.s.start_op(req, "Microsoft.Network", f"DELETE {res['type'].rsplit('/', 1)[-1]}", done, failed)
        return self.s.accepted(req, op, sub)

    def get(self, rid: str) -> dict[str, Any]:
        return self.render(self.s.need(rid))

    def listing(self, req: Request, rtype: str) -> dict[str, Any]:
        self.s.check_group(req.params["sub"], req.params["rg"])
        items = [self.render(r) for r in self.s.of_type(req.params["sub"], req.params["rg"], rtype)]
        return self.s.page(req, sorted(items, key=lambda r: r["name"]))

    # ------------------------------------------------------------ VNet and subnets
    def vnet_id(self, req: Request) -> str:
        return f"{rg_prefix(req.params['sub'], req.params['rg'])}/providers/{T_VNET}/{req.params['vnet']}"

    def build_subnet(self, vnet: dict[str, Any], sid: str, name: str, body: dict[str, Any],
                     old: dict[str, Any] | None) -> dict[str, Any]:
        p = body.get("properties") or {}
        prefix = p.get("addressPrefix")
        if not prefix:
            raise bad(f"Subnet {name} needs an addressPrefix.", "InvalidRequestFormat")
        try:
            net = ipaddress.ip_network(prefix)
        except ValueError as exc:
            raise bad(f"Subnet {name} has an invalid address prefix {prefix}.", "NetcfgInvalidSubnet") from exc
        spaces = [ipaddress.ip_network(a) for a in props(vnet).get("addressSpace", {}).get("addressPrefixes", [])]
        if not any(net.version == sp.version and net.subnet_of(sp) for sp in spaces):  # type: ignore[arg-type]
            raise bad(f"Subnet '{name}' is not valid because its IP address range is outside the IP address "
                      f"range of virtual network '{vnet['name']}'.", "NetcfgSubnetRangeOutsideVnet")
        for other in self.subnets_of(vnet["id"]):
            if self.same(other["id"], sid):
                continue
            if net.overlaps(ipaddress.ip_network(props(other)["addressPrefix"])):
                raise bad(f"Subnet '{name}' overlaps subnet '{other['name']}'.", "NetcfgInvalidSubnet")
        if old is not None and self.subnet_in_use(old) and props(old)["addressPrefix"] != prefix:
            raise bad(f"Subnet {name} is in use and its prefix cannot change.", "InUseSubnetCannotBeDeleted")
        res = {"id": sid, "name": name, "type": T_SUBNET, "etag": etag(),
               "properties": {"addressPrefix": prefix, "delegations": [],
                              "privateEndpointNetworkPolicies": "Disabled",
                              "privateLinkServiceNetworkPolicies": "Enabled"}}
        nsg = ref_id(p.get("networkSecurityGroup"))
        if nsg:
            self.s.need(nsg)
            res["properties"]["networkSecurityGroup"] = {"id": nsg}
        return res

    def subnet_in_use(self, subnet: dict[str, Any]) -> bool:
        return any(self.same(ref_id(props(ipc).get("subnet")), subnet["id"]) for _, ipc in self.ip_configs())

    def check_subnet_free(self, subnet: dict[str, Any]) -> None:
        if self.subnet_in_use(subnet):
            raise bad(f"Subnet {subnet['name']} is in use by a network interface and cannot be deleted. "
                      "In order to delete the subnet, delete all the resources within the subnet.",
                      "InUseSubnetCannotBeDeleted")

    def put_vnet(self, req: Request) -> Response:
        rid = self.vnet_id(req)
        body = req.body or {}

        def build(old: dict[str, Any] | None) -> dict[str, Any]:
            prefixes = ((body.get("properties") or {}).get("addressSpace") or {}).get("addressPrefixes") or []
            if not prefixes:
                raise bad("The virtual network needs at least one address prefix.", "InvalidRequestFormat")
            for pre in prefixes:
                try:
                    ipaddress.ip_network(pre)
                except ValueError as exc:
                    raise bad(f"Address prefix {pre} is invalid.", "InvalidRequestFormat") from exc
            res = self.new(req, T_VNET, rid, req.params["vnet"])
            res["properties"] = {"addressSpace": {"addressPrefixes": prefixes}, "virtualNetworkPeerings": [],
                                 "enableDdosProtection": False}
            # a PUT's subnet list is the VNet's whole subnet list (ARM replaces it)
            wanted = (body.get("properties") or {}).get("subnets") or []
            names = {w.get("name", "").lower() for w in wanted}
            for old_sn in self.subnets_of(rid):
                if old_sn["name"].lower() not in names:
                    self.check_subnet_free(old_sn)
            built = []
            for w in wanted:
                sid = f"{rid}/subnets/{w.get('name')}"
                built.append(self.build_subnet(res, sid, w.get("name"), w, self.s.get(sid)))
            for old_sn in self.subnets_of(rid):
                self.s.drop(old_sn["id"])
            for sn in built:
                props(sn)["provisioningState"] = "Succeeded"
                self.s.put(sn)
            return res

        return self.put(req, T_VNET, rid, build)

    def delete_vnet(self, req: Request) -> Response:
        def check(res: dict[str, Any]) -> None:
            for sn in self.subnets_of(res["id"]):
                self.check_subnet_free(sn)

        return self.delete(req, self.vnet_id(req), check)

    def put_subnet(self, req: Request) -> Response:
        vnet = self.s.need(self.vnet_id(req))
        sid = f"{vnet['id']}/subnets/{req.params['subnet']}"
        return self.put(req, T_SUBNET, sid,
                        lambda old: self.build_subnet(vnet, sid, req.params["subnet"], req.body or {}, old))

    def subnet_id(self, req: Request) -> str:
        return f"{self.vnet_id(req)}/subnets/{req.params['subnet']}"

    def get_subnet(self, req: Request) -> Any:
        self.s.need(self.vnet_id(req))
        sub = self.s.get(self.subnet_id(req))
        if sub is None:
            raise arm_error(404, "NotFound", f"Resource {self.subnet_id(req)} not found.")
        return self.render(sub)

    def list_subnets(self, req: Request) -> Any:
        vnet = self.s.need(self.vnet_id(req))
        return self.s.page(req, [self.render(sn) for sn in self.subnets_of(vnet["id"])])

    # ------------------------------------------------------------ NSG
    def nsg_id(self, req: Request) -> str:
        return f"{rg_prefix(req.params['sub'], req.params['rg'])}/providers/{T_NSG}/{req.params['nsg']}"

    def put_nsg(self, req: Request) -> Response:
        rid = self.nsg_id(req)
        body = req.body or {}

        def build(old: dict[str, Any] | None) -> dict[str, Any]:
            res = self.new(req, T_NSG, rid, req.params["nsg"])
            rules, seen = [], set()
            for r in (body.get("properties") or {}).get("securityRules") or []:
                p = r.get("properties") or {}
                name = r.get("name")
                if not name:
                    raise bad("A security rule needs a name.", "InvalidRequestFormat")
                for key in ("protocol", "access", "direction", "priority"):
                    if p.get(key) in (None, ""):
                        raise bad(f"Security rule {name} has no {key}.", "InvalidRequestFormat")
                if p["protocol"] not in ("Tcp", "Udp", "Icmp", "Esp", "Ah", "*"):
                    raise bad(f"Security rule {name} has an invalid protocol {p['protocol']}.")
                if not 100 <= int(p["priority"]) <= 4096:
                    raise bad(f"Security rule {name} has a priority outside 100-4096.")
                key = (p["direction"], int(p["priority"]))
                if key in seen:
                    raise bad(f"Security rule {name} conflicts with another rule: the same priority and direction.",
                              "InvalidRequestFormat")
                seen.add(key)
                rp = {k: p[k] for k in ("protocol", "access", "direction", "priority", "sourcePortRange",
                                        "destinationPortRange", "sourceAddressPrefix", "destinationAddressPrefix",
                                        "sourcePortRanges", "destinationPortRanges", "sourceAddressPrefixes",
                                        "destinationAddressPrefixes", "description") if k in p}
                rp["provisioningState"] = "Succeeded"
                rules.append({"id": f"{rid}/securityRules/{name}", "name": name, "etag": etag(),
                              "type": "Microsoft.Network/networkSecurityGroups/securityRules", "properties": rp})
            res["properties"] = {"securityRules": rules}
            return res

        return self.put(req, T_NSG, rid, build)

    def delete_nsg(self, req: Request) -> Response:
        def check(res: dict[str, Any]) -> None:
            p = self.render(res)["properties"]
            if p.get("networkInterfaces") or p.get("subnets"):
                raise bad(f"Network security group {res['id']} cannot be deleted because it is in use by "
                          f"{(p.get('networkInterfaces') or p.get('subnets'))[0]['id']}.",
                          "InUseNetworkSecurityGroupCannotBeDeleted")

        return self.delete(req, self.nsg_id(req), check)

    # ------------------------------------------------------------ public IP
    def pip_id(self, req: Request) -> str:
        return f"{rg_prefix(req.params['sub'], req.params['rg'])}/providers/{T_PIP}/{req.params['pip']}"

    def put_pip(self, req: Request) -> Response:
        rid = self.pip_id(req)
        body = req.body or {}

        def build(old: dict[str, Any] | None) -> dict[str, Any]:
            res = self.new(req, T_PIP, rid, req.params["pip"])
            sku = (body.get("sku") or {}).get("name") or "Standard"
            p = body.get("properties") or {}
            method = p.get("publicIPAllocationMethod") or ("Static" if sku == "Standard" else "Dynamic")
            if sku == "Standard" and method != "Static":
                raise bad("Standard sku public IP addresses must have Static allocation.", "InvalidRequestFormat")
            res["sku"] = {"name": sku, "tier": "Regional"}
            address = props(old).get("ipAddress") if old else self.s.public_ip()
            res["properties"] = {"publicIPAddressVersion": "IPv4", "publicIPAllocationMethod": method,
                                 "idleTimeoutInMinutes": 4, "ipTags": [], "ipAddress": address}
            return res

        return self.put(req, T_PIP, rid, build)

    def delete_pip(self, req: Request) -> Response:
        def check(res: dict[str, Any]) -> None:
            user = self.pip_user(res["id"])
            if user:
                raise bad(f"Public IP address {res['id']} can not be deleted since it is still allocated to "
                          f"resource {user}.", "PublicIPAddressCannotBeDeleted")

        return self.delete(req, self.pip_id(req), check)

    # ------------------------------------------------------------ NIC
    def nic_id(self, req: Request) -> str:
        return f"{rg_prefix(req.params['sub'], req.params['rg'])}/providers/{T_NIC}/{req.params['nic']}"

    def put_nic(self, req: Request) -> Response:
        rid = self.nic_id(req)
        body = req.body or {}

        def build(old: dict[str, Any] | None) -> dict[str, Any]:
            res = self.new(req, T_NIC, rid, req.params["nic"])
            p = body.get("properties") or {}
            configs = p.get("ipConfigurations") or []
            if not configs:
                raise bad("A network interface needs at least one IP configuration.", "InvalidRequestFormat")
            old_ips = {c["name"]: props(c) for c in (props(old).get("ipConfigurations", []) if old else [])}
            out = []
            for c in configs:
                cp = c.get("properties") or {}
                subnet_id = ref_id(cp.get("subnet"))
                subnet = self.s.get(subnet_id or "")
                if subnet is None:
                    raise bad(f"Subnet {subnet_id} referenced by {rid} was not found.", "InvalidResourceReference")
                prior = old_ips.get(c.get("name"), {})
                if prior and not self.same(ref_id(prior.get("subnet")), subnet_id):
                    raise bad("The subnet of an IP configuration cannot change.", "InvalidRequestFormat")
                ip = prior.get("privateIPAddress") or self.s.private_ip(props(subnet)["addressPrefix"],
                                                                          subnet["id"].lower())
                q: dict[str, Any] = {"privateIPAddress": ip, "privateIPAllocationMethod": "Dynamic",
                                     "subnet": {"id": subnet["id"]}, "primary": True,
                                     "privateIPAddressVersion": "IPv4", "provisioningState": "Succeeded"}
                pip = ref_id(cp.get("publicIPAddress"))
                if pip:
                    self.s.need(pip)
                    user = self.pip_user(pip)
                    if user and not user.lower().startswith(rid.lower() + "/"):
                        raise bad(f"Public IP {pip} is already in use by {user}.", "InvalidRequestFormat")
                    q["publicIPAddress"] = {"id": pip}
                pools = []
                for pool in cp.get("loadBalancerBackendAddressPools") or []:
                    pid = ref_id(pool) or ""
                    lb = self.s.get(pid.split("/backendAddressPools/")[0])
                    known = props(lb).get("backendAddressPools", []) if lb else []
                    if not any(self.same(bp["id"], pid) for bp in known):
                        raise bad(f"Backend address pool {pid} was not found.", "InvalidResourceReference")
                    pools.append({"id": pid})
                if pools:
                    q["loadBalancerBackendAddressPools"] = pools
                out.append({"id": f"{rid}/ipConfigurations/{c.get('name')}", "name": c.get("name"), "etag": etag(),
                            "type": "Microsoft.Network/networkInterfaces/ipConfigurations", "properties": q})
            res["properties"] = {"ipConfigurations": out, "enableAcceleratedNetworking": False,
                                 "enableIPForwarding": False, "nicType": "Standard", "dnsSettings": {"dnsServers": []}}
            nsg = ref_id(p.get("networkSecurityGroup"))
            if nsg:
                self.s.need(nsg)
                res["properties"]["networkSecurityGroup"] = {"id": nsg}
            return res

        return self.put(req, T_NIC, rid, build)

    def delete_nic(self, req: Request) -> Response:
        def check(res: dict[str, Any]) -> None:
            vm = props(self.render(res)).get("virtualMachine")
            if vm:
                raise bad(f"Network Interface {res['id']} is used by existing resource {vm['id']}. In order to "
                          "delete the network interface, it must be dissociated from the resource.", "NicInUse")

        def after(res: dict[str, Any]) -> None:
            for c in props(res).get("ipConfigurations", []):
                self.s.free_ip(ref_id(props(c).get("subnet")).lower(), props(c).get("privateIPAddress"))

        return self.delete(req, self.nic_id(req), check, after)

    # ------------------------------------------------------------ load balancer
    def lb_id(self, req: Request) -> str:
        return f"{rg_prefix(req.params['sub'], req.params['rg'])}/providers/{T_LB}/{req.params['lb']}"

    def put_lb(self, req: Request) -> Response:
        rid = self.lb_id(req)
        body = req.body or {}

        def build(old: dict[str, Any] | None) -> dict[str, Any]:
            res = self.new(req, T_LB, rid, req.params["lb"])
            res["sku"] = {"name": (body.get("sku") or {}).get("name") or "Standard", "tier": "Regional"}
            p = body.get("properties") or {}

            def child(kind: str, item: dict[str, Any]) -> dict[str, Any]:
                if not item.get("name"):
                    raise bad(f"Every {kind} of a load balancer needs a name.", "InvalidRequestFormat")
                return {"id": f"{rid}/{kind}/{item['name']}", "name": item["name"], "etag": etag(),
                        "type": f"{T_LB}/{kind}", "properties": {"provisioningState": "Succeeded"}}

            old_fe = {f["name"]: props(f) for f in (props(old).get("frontendIPConfigurations", []) if old else [])}
            fes = []
            for f in p.get("frontendIPConfigurations") or []:
                fe = child("frontendIPConfigurations", f)
                fp = f.get("properties") or {}
                if ref_id(fp.get("publicIPAddress")):
                    self.s.need(fp["publicIPAddress"]["id"])
                    fe["properties"]["publicIPAddress"] = {"id": fp["publicIPAddress"]["id"]}
                elif ref_id(fp.get("subnet")):
                    subnet = self.s.get(fp["subnet"]["id"])
                    if subnet is None:
                        raise bad(f"Subnet {fp['subnet']['id']} was not found.", "InvalidResourceReference")
                    ip = old_fe.get(f["name"], {}).get("privateIPAddress") or self.s.private_ip(
                        props(subnet)["addressPrefix"], subnet["id"].lower())
                    fe["properties"].update(subnet={"id": subnet["id"]}, privateIPAddress=ip,
                                            privateIPAllocationMethod="Dynamic", privateIPAddressVersion="IPv4")
                else:
                    raise bad("A frontend IP configuration needs a public IP address or a subnet.",
                              "InvalidRequestFormat")
                fes.append(fe)
            pools = [child("backendAddressPools", b) for b in p.get("backendAddressPools") or []]
            probes = []
            for pr in p.get("probes") or []:
                item = child("probes", pr)
                pp = pr.get("properties") or {}
                if pp.get("protocol") not in ("Tcp", "Http", "Https") or not pp.get("port"):
                    raise bad(f"Probe {pr['name']} needs a protocol (Tcp, Http, Https) and a port.")
                if pp["protocol"] != "Tcp" and not pp.get("requestPath"):
                    raise bad(f"Probe {pr['name']} of protocol {pp['protocol']} needs a requestPath.")
                item["properties"].update({k: pp[k] for k in ("protocol", "port", "intervalInSeconds",
                                                              "numberOfProbes", "probeThreshold", "requestPath")
                                           if k in pp})
                probes.append(item)
            rules = []
            ids = {x["id"].lower() for x in fes + pools + probes}
            for r in p.get("loadBalancingRules") or []:
                item = child("loadBalancingRules", r)
                rp = r.get("properties") or {}
                if rp.get("protocol") not in ("Tcp", "Udp", "All"):
                    raise bad(f"Load balancing rule {r['name']} has an invalid protocol.")
                for key in ("frontendIPConfiguration", "backendAddressPool", "probe"):
                    ref = ref_id(rp.get(key))
                    if ref is None and key != "probe":
                        raise bad(f"Load balancing rule {r['name']} needs a {key}.", "InvalidRequestFormat")
                    if ref is not None and ref.lower() not in ids:
                        raise bad(f"{key} {ref} of rule {r['name']} is not part of this load balancer.",
                                  "InvalidResourceReference")
                    if ref is not None:
                        item["properties"][key] = {"id": ref}
                item["properties"].update(
                    protocol=rp["protocol"], frontendPort=rp.get("frontendPort"), backendPort=rp.get("backendPort"),
                    idleTimeoutInMinutes=rp.get("idleTimeoutInMinutes", 4), enableFloatingIP=False,
                    loadDistribution="Default", disableOutboundSnat=bool(rp.get("disableOutboundSnat", False)),
                    enableTcpReset=bool(rp.get("enableTcpReset", False)))
                rules.append(item)
            for fe in fes:
                used = [{"id": r["id"]} for r in rules
                        if self.same(r["properties"]["frontendIPConfiguration"]["id"], fe["id"])]
                if used:
                    fe["properties"]["loadBalancingRules"] = used
            for kind, items in (("backendAddressPool", pools), ("probe", probes)):
                for it in items:
                    used = [{"id": r["id"]} for r in rules
                            if self.same(ref_id(r["properties"].get(kind)), it["id"])]
                    if used:
                        it["properties"]["loadBalancingRules"] = used
            # members of a pool the new body drops are let go (ARM clears those NIC references)
            kept = {b["id"].lower() for b in pools}
            for _, ipc in self.ip_configs():
                refs = props(ipc).get("loadBalancerBackendAddressPools")
                if refs:
                    props(ipc)["loadBalancerBackendAddressPools"] = [
                        x for x in refs if not x["id"].lower().startswith(rid.lower() + "/")
                        or x["id"].lower() in kept]
            res["properties"] = {"frontendIPConfigurations": fes, "backendAddressPools": pools, "probes": probes,
                                 "loadBalancingRules": rules, "inboundNatRules": [], "inboundNatPools": [],
                                 "outboundRules": []}
            return res

        return self.put(req, T_LB, rid, build)

    def delete_lb(self, req: Request) -> Response:
        rid = self.lb_id(req)

        def after(res: dict[str, Any]) -> None:
            for _, ipc in self.ip_configs():
                refs = props(ipc).get("loadBalancerBackendAddressPools")
                if refs:
                    props(ipc)["loadBalancerBackendAddressPools"] = [
                        x for x in refs if not x["id"].lower().startswith(rid.lower() + "/")]

        return self.delete(req, rid, None, after)

    def rule_health(self, req: Request) -> Response:
        """POST .../loadBalancingRules/{rule}/health: 202, then the per-backend states via Location."""
        lb = self.s.need(self.lb_id(req))
        rendered = self.render(lb)
        rule = next((r for r in props(rendered).get("loadBalancingRules", [])
                     if r["name"].lower() == req.params["rule"].lower()), None)
        if rule is None:
            raise arm_error(404, "NotFound", f"Load balancing rule {req.params['rule']} was not found.")
        pool_id = rule["properties"]["backendAddressPool"]["id"]
        pool = next(p for p in props(rendered)["backendAddressPools"] if self.same(p["id"], pool_id))

        def measure() -> dict[str, Any]:
            addresses = []
            for ref in props(pool).get("backendIPConfigurations", []):
                nic_id = ref["id"].split("/ipConfigurations/")[0]
                nic = self.render(self.s.need(nic_id))
                ipc = next(c for c in props(nic)["ipConfigurations"] if self.same(c["id"], ref["id"]))
                vm = props(nic).get("virtualMachine")
                up = bool(vm) and self.s.power.get(vm["id"].lower()) == "running"
                addresses.append({"ipAddress": props(ipc)["privateIPAddress"],
                                  "networkInterfaceIPConfigurationId": ref["id"],
                                  "state": "Up" if up else "Down",
                                  **({} if up else {"reason": "Probe failed: the backend did not answer"})})
            return {"up": sum(a["state"] == "Up" for a in addresses),
                    "down": sum(a["state"] == "Down" for a in addresses),
                    "loadBalancerBackendAddresses": addresses}

        op = self.s.start_op(req, "Microsoft.Network", "POST health", measure)
        return self.s.accepted(req, op, req.params["sub"])


def add_network_routes(t: RouteTable, state: ArmState) -> Network:
    n = Network(state)
    vnet, nsg, nic = f"{NET}/virtualNetworks/{{vnet}}", f"{NET}/networkSecurityGroups/{{nsg}}", \
        f"{NET}/networkInterfaces/{{nic}}"
    pip, lb = f"{NET}/publicIPAddresses/{{pip}}", f"{NET}/loadBalancers/{{lb}}"
    t.add("GET", f"{NET}/virtualNetworks", lambda r: n.listing(r, T_VNET), schema="VirtualNetworks_List")
    t.add("PUT", vnet, n.put_vnet, schema="VirtualNetworks_CreateOrUpdate")
    t.add("GET", vnet, lambda r: n.get(n.vnet_id(r)), schema="VirtualNetworks_Get")
    t.add("DELETE", vnet, n.delete_vnet, schema="VirtualNetworks_Delete")
    t.add("GET", f"{vnet}/subnets", n.list_subnets, schema="Subnets_List")
    t.add("PUT", f"{vnet}/subnets/{{subnet}}", n.put_subnet, schema="Subnets_CreateOrUpdate")
    t.add("GET", f"{vnet}/subnets/{{subnet}}", n.get_subnet, schema="Subnets_Get")
    t.add("DELETE", f"{vnet}/subnets/{{subnet}}",
          lambda r: n.delete(r, n.subnet_id(r), n.check_subnet_free), schema="Subnets_Delete")
    t.add("GET", f"{NET}/networkSecurityGroups", lambda r: n.listing(r, T_NSG), schema="NetworkSecurityGroups_List")
    t.add("PUT", nsg, n.put_nsg, schema="NetworkSecurityGroups_CreateOrUpdate")
    t.add("GET", nsg, lambda r: n.get(n.nsg_id(r)), schema="NetworkSecurityGroups_Get")
    t.add("DELETE", nsg, n.delete_nsg, schema="NetworkSecurityGroups_Delete")
    t.add("GET", f"{NET}/publicIPAddresses", lambda r: n.listing(r, T_PIP), schema="PublicIPAddresses_List")
    t.add("PUT", pip, n.put_pip, schema="PublicIPAddresses_CreateOrUpdate")
    t.add("GET", pip, lambda r: n.get(n.pip_id(r)), schema="PublicIPAddresses_Get")
    t.add("DELETE", pip, n.delete_pip, schema="PublicIPAddresses_Delete")
    t.add("GET", f"{NET}/networkInterfaces", lambda r: n.listing(r, T_NIC), schema="NetworkInterfaces_List")
    t.add("PUT", nic, n.put_nic, schema="NetworkInterfaces_CreateOrUpdate")
    t.add("GET", nic, lambda r: n.get(n.nic_id(r)), schema="NetworkInterfaces_Get")
    t.add("DELETE", nic, n.delete_nic, schema="NetworkInterfaces_Delete")
    t.add("GET", f"{NET}/loadBalancers", lambda r: n.listing(r, T_LB), schema="LoadBalancers_List")
    t.add("PUT", lb, n.put_lb, schema="LoadBalancers_CreateOrUpdate")
    t.add("GET", lb, lambda r: n.get(n.lb_id(r)), schema="LoadBalancers_Get")
    t.add("DELETE", lb, n.delete_lb, schema="LoadBalancers_Delete")
    t.add("POST", f"{lb}/loadBalancingRules/{{rule}}/health", n.rule_health,
          schema="LoadBalancerLoadBalancingRules_Health")
    return n
