"""Microsoft.Compute, resource-group, location and operation routes of the fake."""

from __future__ import annotations

import copy
import re
import uuid
from typing import Any

from tests.fakes.azure import catalog
from tests.fakes.azure.routes_network import Network, props, ref_id
from tests.fakes.azure.state import ArmState, arm_error, bad, now, rg_prefix
from tests.fakes.server import Request, Response, RouteTable

COMPUTE = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Compute"
LOCATED = "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}"
T_VM = "Microsoft.Compute/virtualMachines"
T_KEY = "Microsoft.Compute/sshPublicKeys"
SSH_KEY = re.compile(r"^(ssh-rsa|ssh-ed25519|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]{40,}( .*)?$")
#: what a VM's power state is while an action runs, and after it
ACTIONS = {"start": ("starting", "running"), "deallocate": ("deallocating", "deallocated"),
           "restart": ("starting", "running"), "powerOff": ("stopping", "stopped")}
DISPLAY = {"running": "VM running", "deallocated": "VM deallocated", "stopped": "VM stopped",
           "starting": "VM starting", "stopping": "VM stopping", "deallocating": "VM deallocating"}


class Compute:
    def __init__(self, state: ArmState, net: Network) -> None:
        self.s = state
        self.net = net

    def vm_id(self, req: Request) -> str:
        return f"{rg_prefix(req.params['sub'], req.params['rg'])}/providers/{T_VM}/{req.params['vm']}"

    def key_id(self, req: Request) -> str:
        return f"{rg_prefix(req.params['sub'], req.params['rg'])}/providers/{T_KEY}/{req.params['key']}"

    # ------------------------------------------------------------ VMs
    def render_vm(self, vm: dict[str, Any], req: Request | None = None) -> dict[str, Any]:
        out = copy.deepcopy(vm)
        if req is not None and req.q("$expand") == "instanceView":
            out["properties"]["instanceView"] = self.view_of(vm)
        return out

    def put_vm(self, req: Request) -> Response:
        sub, rg, name = req.params["sub"], req.params["rg"], req.params["vm"]
        self.s.check_group(sub, rg)
        rid = self.vm_id(req)
        if self.s.get(rid) is not None:
            raise arm_error(409, "OperationNotAllowed",
                            f"Changing property of VM '{name}' is not allowed by this fake.")
        body = req.body or {}
        p = body.get("properties") or {}
        vm_size = (p.get("hardwareProfile") or {}).get("vmSize")
        if vm_size not in catalog.SIZES:
            raise bad(f"The requested VM size {vm_size} is not available in the current region.")
        storage = p.get("storageProfile") or {}
        image = storage.get("imageReference") or {}
        vers = catalog.versions(image.get("publisher", ""), image.get("offer", ""), image.get("sku", ""))
        version = image.get("version") or "latest"
        if vers is None or (version != "latest" and version not in vers):
            urn = ":".join(str(image.get(k)) for k in ("publisher", "offer", "sku", "version"))
            raise arm_error(404, "PlatformImageNotFound", f"The platform image '{urn}' is not available.")
        os_profile = p.get("osProfile") or {}
        user = os_profile.get("adminUsername") or ""
        if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,63}", user) or user in ("root", "admin", "administrator"):
            raise bad(f"The Admin Username specified is not allowed: {user!r}.")
        keys = (((os_profile.get("linuxConfiguration") or {}).get("ssh") or {}).get("publicKeys") or [])
        if not keys or any(not SSH_KEY.match(k.get("keyData") or "") for k in keys):
            raise bad("The value of parameter linuxConfiguration.ssh.publicKeys.keyData is invalid.")
        computer = os_profile.get("computerName") or name
        if len(computer) > 64:
            raise bad("The Linux host name cannot exceed 64 characters in length.")
        nics = (p.get("networkProfile") or {}).get("networkInterfaces") or []
        if not nics:
            raise bad("At least one network interface is required.")
        for n in nics:
            nic = self.s.get(ref_id(n) or "")
            if nic is None:
                raise arm_error(404, "NotFound", f"Resource {ref_id(n)} not found.")
            used = props(self.net.render(nic)).get("virtualMachine")
            if used:
                raise bad(f"Network interface {nic['id']} is in use by {used['id']}.", "NicInUse")
        os_disk = storage.get("osDisk") or {}
        disk_type = (os_disk.get("managedDisk") or {}).get("storageAccountType") or "Standard_LRS"
        if disk_type not in ("Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "UltraSSD_LRS", "Premium_ZRS",
                             "StandardSSD_ZRS", "PremiumV2_LRS"):
            raise bad(f"Storage account type {disk_type} is not supported.")
        disk_size = os_disk.get("diskSizeGB") or 30
        if not 30 <= int(disk_size) <= 4095:
            raise bad(f"The specified disk size {disk_size} GB is outside 30-4095 GB for this image.")
        disk_name = os_disk.get("name") or f"{name}_OsDisk_1_{uuid.uuid4().hex}"
        vm = {
            "id": rid, "name": name, "type": T_VM, "location": body.get("location") or "eastus",
            **({"tags": body["tags"]} if body.get("tags") else {}),
            **({"zones": body["zones"]} if body.get("zones") else {}),
            "properties": {
                "vmId": str(uuid.uuid4()),
                "hardwareProfile": {"vmSize": vm_size},
                "storageProfile": {
                    "imageReference": {"publisher": image["publisher"], "offer": image["offer"],
                                       "sku": image["sku"], "version": version,
                                       "exactVersion": vers[-1] if version == "latest" else version},
                    "osDisk": {"osType": "Linux", "name": disk_name, "createOption": "FromImage",
                               "caching": os_disk.get("caching") or "ReadWrite",
                               "managedDisk": {"storageAccountType": disk_type,
                                               "id": f"{rg_prefix(sub, rg)}/providers/Microsoft.Compute/disks/"
                                                     f"{disk_name}"},
                               "deleteOption": os_disk.get("deleteOption") or "Detach", "diskSizeGB": disk_size},
                    "dataDisks": [],
                },
                "osProfile": {"computerName": computer, "adminUsername": user,
                              "linuxConfiguration": {"disablePasswordAuthentication": True,
                                                     "ssh": {"publicKeys": [{"path": k.get("path"),
                                                                             "keyData": k["keyData"]}
                                                                            for k in keys]},
                                                     "provisionVMAgent": True},
                              "secrets": [], "allowExtensionOperations": True,
                              "requireGuestProvisionSignal": True},
                "networkProfile": {"networkInterfaces": [
                    {"id": ref_id(n), "properties": {k: v for k, v in (n.get("properties") or {}).items()
                                                     if k in ("primary", "deleteOption")}} for n in nics]},
                "provisioningState": "Creating",
                "timeCreated": now(),
            },
        }
        self.s.put(vm)
        self.s.transit[rid.lower()] = "starting"

        def done() -> None:
            vm["properties"]["provisioningState"] = "Succeeded"
            self.s.transit.pop(rid.lower(), None)
            self.s.power[rid.lower()] = "running"

        def failed() -> None:
            vm["properties"]["provisioningState"] = "Failed"  # ARM keeps a VM whose creation failed
            self.s.transit.pop(rid.lower(), None)

        op = self.s.start_op(req, "Microsoft.Compute", "PUT virtualMachines", done, failed)
        return self.s.accepted_put(req, op, sub, self.render_vm(vm), True)

    def get_vm(self, req: Request) -> Any:
        return self.render_vm(self.s.need(self.vm_id(req)), req)

    def list_vms(self, req: Request) -> Any:
        self.s.check_group(req.params["sub"], req.params["rg"])
        vms = sorted(self.s.of_type(req.params["sub"], req.params["rg"], T_VM), key=lambda v: v["name"])
        return self.s.page(req, [self.render_vm(v, req) for v in vms])

    def instance_view(self, req: Request) -> Any:
        return self.view_of(self.s.need(self.vm_id(req)))

    def view_of(self, vm: dict[str, Any]) -> dict[str, Any]:
        rid = vm["id"].lower()
        state = vm["properties"]["provisioningState"]
        statuses = [{"code": f"ProvisioningState/{state.lower()}", "level": "Info" if state != "Failed" else "Error",
                     "displayStatus": f"Provisioning {state.lower()}", "time": vm["properties"]["timeCreated"]}]
        power = self.s.transit.get(rid) or self.s.power.get(rid)
        if power:
            statuses.append({"code": f"PowerState/{power}", "level": "Info", "displayStatus": DISPLAY[power]})
        return {"computerName": vm["properties"]["osProfile"]["computerName"], "osName": "ubuntu",
                "osVersion": "24.04", "hyperVGeneration": "V2", "statuses": statuses,
                "disks": [{"name": vm["properties"]["storageProfile"]["osDisk"]["name"],
                           "statuses": [{"code": "ProvisioningState/succeeded", "level": "Info",
                                         "displayStatus": "Provisioning succeeded"}]}]}

    def action(self, req: Request, verb: str) -> Response:
        vm = self.s.need(self.vm_id(req))
        rid = vm["id"].lower()
        power = self.s.power.get(rid)
        if vm["properties"]["provisioningState"] not in ("Succeeded", "Failed") or rid in self.s.transit:
            raise arm_error(409, "OperationNotAllowed",
                            f"Operation '{verb}' is not allowed since the VM is busy with another operation.")
        if verb in ("restart", "powerOff") and power in ("deallocated", "stopped"):
            raise arm_error(409, "OperationNotAllowed",
                            f"Operation '{verb}' is not allowed on VM '{vm['name']}' since the VM is {power}.")
        during, after = ACTIONS[verb]
        self.s.transit[rid] = during

        def done() -> None:
            self.s.transit.pop(rid, None)
            self.s.power[rid] = after

        def failed() -> None:
            self.s.transit.pop(rid, None)

        op = self.s.start_op(req, "Microsoft.Compute", f"POST {verb}", done, failed)
        return self.s.accepted(req, op, req.params["sub"])

    def delete_vm(self, req: Request) -> Response:
        rid = self.vm_id(req)
        vm = self.s.get(rid)
        if vm is None:
            return Response(204, None)
        before = vm["properties"]["provisioningState"]
        vm["properties"]["provisioningState"] = "Deleting"

        def done() -> None:
            self.s.drop(rid)
            self.s.power.pop(rid.lower(), None)
            self.s.transit.pop(rid.lower(), None)
            for n in vm["properties"]["networkProfile"]["networkInterfaces"]:
                if (n.get("properties") or {}).get("deleteOption") == "Delete":
                    nic = self.s.get(n["id"])
                    if nic is not None:
                        for c in props(nic).get("ipConfigurations", []):
                            self.s.free_ip(ref_id(props(c).get("subnet")).lower(), props(c).get("privateIPAddress"))
                        self.s.drop(n["id"])

        def failed() -> None:
            vm["properties"]["provisioningState"] = before

        op = self.s.start_op(req, "Microsoft.Compute", "DELETE virtualMachines", done, failed)
        return self.s.accepted(req, op, req.params["sub"])

    # ------------------------------------------------------------ SSH public keys (synchronous in ARM)
    def put_key(self, req: Request) -> Response:
        self.s.check_group(req.params["sub"], req.params["rg"])
        rid = self.key_id(req)
        body = req.body or {}
        public = (body.get("properties") or {}).get("publicKey")
        if public is not None and not SSH_KEY.match(public.strip()):
            raise bad("The value of parameter publicKey is invalid.", "InvalidParameter")
        old = self.s.get(rid)
        res = {"id": rid, "name": req.params["key"], "type": T_KEY, "location": body.get("location") or "eastus",
               **({"tags": body["tags"]} if body.get("tags") else {}),
               "properties": {"publicKey": public.strip()} if public else {}}
        self.s.put(res)
        return Response(200 if old else 201, copy.deepcopy(res))

    def delete_key(self, req: Request) -> Response:
        rid = self.key_id(req)
        if self.s.get(rid) is None:
            return Response(204, None)
        self.s.drop(rid)
        return Response(200, None)

    def list_keys(self, req: Request) -> Any:
        self.s.check_group(req.params["sub"], req.params["rg"])
        keys = sorted(self.s.of_type(req.params["sub"], req.params["rg"], T_KEY), key=lambda k: k["name"])
        return self.s.page(req, keys)

    # ------------------------------------------------------------ catalog
    def image(self, req: Request) -> Any:
        vers = catalog.versions(req.params["pub"], req.params["offer"], req.params["sku"]) or []
        if req.params["version"] not in vers:
            raise arm_error(404, "NotFound", f"Artifact: VMImage was not found (version {req.params['version']}).")
        return {"id": req.path, "name": req.params["version"], "location": req.params["loc"],
                "properties": {"osDiskImage": {"operatingSystem": "Linux"}, "dataDiskImages": [],
                               "hyperVGeneration": "V2", "architecture": "x64",
                               "imageDeprecationStatus": {"imageState": "Active"}}}

    def image_versions(self, req: Request) -> Any:
        vers = catalog.versions(req.params["pub"], req.params["offer"], req.params["sku"])
        if vers is None:
            raise arm_error(404, "NotFound", f"Artifact: VMImage was not found ({req.params['sku']}).")
        items = sorted(vers, reverse="desc" in (req.q("$orderby") or ""))
        top = int(req.q("$top") or len(items))
        return [{"name": v, "location": req.params["loc"], "id": f"{req.path}/{v}"} for v in items[:top]]

    def sizes(self, req: Request) -> Any:
        return self.s.page(req, [catalog.size(n) for n in catalog.SIZES])


def add_compute_routes(t: RouteTable, state: ArmState, net: Network) -> Compute:
    c = Compute(state, net)
    vm = f"{COMPUTE}/virtualMachines/{{vm}}"
    t.add("GET", f"{COMPUTE}/virtualMachines", c.list_vms, schema="VirtualMachines_List")
    t.add("PUT", vm, c.put_vm, schema="VirtualMachines_CreateOrUpdate")
    t.add("GET", vm, c.get_vm, schema="VirtualMachines_Get")
    t.add("DELETE", vm, c.delete_vm, schema="VirtualMachines_Delete")
    t.add("GET", f"{vm}/instanceView", c.instance_view, schema="VirtualMachines_InstanceView")
    for verb, op in (("start", "Start"), ("deallocate", "Deallocate"), ("restart", "Restart"),
                     ("powerOff", "PowerOff")):
        t.add("POST", f"{vm}/{verb}", lambda r, v=verb: c.action(r, v), schema=f"VirtualMachines_{op}")
    key = f"{COMPUTE}/sshPublicKeys/{{key}}"
    t.add("GET", f"{COMPUTE}/sshPublicKeys", c.list_keys, schema="SshPublicKeys_ListByResourceGroup")
    t.add("PUT", key, c.put_key, schema="SshPublicKeys_Create")
    t.add("GET", key, lambda r: copy.deepcopy(state.need(c.key_id(r))), schema="SshPublicKeys_Get")
    t.add("DELETE", key, c.delete_key, schema="SshPublicKeys_Delete")
    img = f"{LOCATED}/publishers/{{pub}}/artifacttypes/vmimage/offers/{{offer}}/skus/{{sku}}/versions"
    t.add("GET", img, c.image_versions, schema="VirtualMachineImages_List")
    t.add("GET", f"{img}/{{version}}", c.image, schema="VirtualMachineImages_Get")
    t.add("GET", f"{LOCATED}/vmSizes", c.sizes, schema="VirtualMachineSizes_List")
    return c


def add_arm_routes(t: RouteTable, state: ArmState) -> None:
    """Resource groups, locations and the operation URLs both providers hand out."""
    rg = "/subscriptions/{sub}/resourcegroups/{rg}"

    def put_group(req: Request) -> Response:
        name = req.params["rg"]
        existed = name.lower() in state.groups
        state.groups[name.lower()] = {"id": f"/subscriptions/{req.params['sub']}/resourceGroups/{name}",
                                      "name": name, "type": "Microsoft.Resources/resourceGroups",
                                      "location": (req.body or {}).get("location") or "eastus",
                                      **({"tags": req.body["tags"]} if (req.body or {}).get("tags") else {}),
                                      "properties": {"provisioningState": "Succeeded"}}
        return Response(200 if existed else 201, state.groups[name.lower()])

    def get_group(req: Request) -> Any:
        state.check_group(req.params["sub"], req.params["rg"])
        return state.groups[req.params["rg"].lower()]

    def delete_group(req: Request) -> Response:
        state.check_group(req.params["sub"], req.params["rg"])
        prefix = rg_prefix(req.params["sub"], req.params["rg"]).lower() + "/"
        for key in [k for k in state.resources if k.startswith(prefix)]:
            state.resources.pop(key)
        state.groups.pop(req.params["rg"].lower())
        return Response(200, None)

    # the SDK spells it "resourcegroups" for groups and "resourceGroups" below them
    for spelling in (rg, rg.replace("resourcegroups", "resourceGroups")):
        t.add("PUT", spelling, put_group)
        t.add("GET", spelling, get_group)
        t.add("DELETE", spelling, delete_group)

    t.add("GET", "/subscriptions/{sub}/locations",
          lambda r: {"value": [catalog.location(r.params["sub"], *loc) for loc in catalog.LOCATIONS]},
          schema="Subscriptions_ListLocations")

    def poll(req: Request) -> Response:
        op = state.poll(req.params["op"])
        if req.q("monitor") == "true" or "/operationResults/" in req.path:
            # a Location URL: 202 while running; then the result (204 when there is none)
            if op.status == "InProgress":
                return Response(202, None, {"Location": f"http://{req.headers.get('Host')}{req.path}?"
                                            + "&".join(f"{k}={v[0]}" for k, v in req.query.items()),
                                            "Retry-After": "0"})
            if op.status != "Succeeded":
                code, message = op.outcome[1], op.outcome[2]  # type: ignore[index]
                return Response(200, {"status": op.status, "error": {"code": code, "message": message}})
            if op.result is not None:
                return Response(200, op.result)
            return Response(204 if "/operationResults/" in req.path else 200, None)
        body: dict[str, Any] = {"status": op.status, "name": op.id, "startTime": op.started}
        if op.ended:
            body["endTime"] = op.ended
        if op.status in ("Failed", "Canceled"):
            body["error"] = {"code": op.outcome[1], "message": op.outcome[2]}  # type: ignore[index]
        return Response(200, body, {"Retry-After": "0"} if op.status == "InProgress" else {})

    for provider in ("Microsoft.Network", "Microsoft.Compute"):
        base = f"/subscriptions/{{sub}}/providers/{provider}/locations/{{loc}}"
        t.add("GET", f"{base}/operations/{{op}}", poll, schema="operation")
        t.add("GET", f"{base}/operationResults/{{op}}", poll, schema="operation")
