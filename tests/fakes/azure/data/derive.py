"""Derive the trimmed response schemas and golden bodies the Azure fake's tests use.

Run by hand (never by the tests) from the repository root::

    python tests/fakes/azure/data/derive.py /path/to/shared/reference/real-api/azure

It reads Microsoft's published OpenAPI 2.0 specs (see ATTRIBUTION.md), keeps only the
operations the fake serves, resolves their ``$ref``s across files into one ``definitions``
table, flattens ``allOf`` (so the parents' properties are known), makes every object with
``properties`` strict (``additionalProperties: false``), turns ``x-nullable`` into a null
alternative, keeps ``enum`` only where the spec says it is closed (``modelAsString: false``),
and drops descriptions. The result, ``schemas.json``, is what the validator checks every 2xx
body against. It also copies the published example and recorded bodies into ``golden/``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

COMPUTE = "compute/resource-manager/Microsoft.Compute/Compute/stable/2026-04-01/ComputeRP.json"
NET = "network/resource-manager/Microsoft.Network/stable/2024-05-01/"
SUBS = "resources/resource-manager/Microsoft.Resources/subscriptions/stable/2022-12-01/subscriptions.json"

#: (spec version, file, operation ids the fake serves)
OPERATIONS: list[tuple[str, str, list[str]]] = [
    ("2026-04-01", COMPUTE, [
        "VirtualMachines_Get", "VirtualMachines_CreateOrUpdate", "VirtualMachines_Delete", "VirtualMachines_List",
        "VirtualMachines_InstanceView", "VirtualMachines_Start", "VirtualMachines_Deallocate",
        "VirtualMachines_Restart", "VirtualMachines_PowerOff",
        "SshPublicKeys_Create", "SshPublicKeys_Get", "SshPublicKeys_Delete", "SshPublicKeys_ListByResourceGroup",
        "VirtualMachineImages_Get", "VirtualMachineImages_List", "VirtualMachineSizes_List",
    ]),
    ("2024-05-01", NET + "virtualNetwork.json", [
        "VirtualNetworks_Get", "VirtualNetworks_CreateOrUpdate", "VirtualNetworks_Delete", "VirtualNetworks_List",
        "Subnets_Get", "Subnets_CreateOrUpdate", "Subnets_Delete", "Subnets_List",
    ]),
    ("2024-05-01", NET + "networkSecurityGroup.json", [
        "NetworkSecurityGroups_Get", "NetworkSecurityGroups_CreateOrUpdate", "NetworkSecurityGroups_Delete",
        "NetworkSecurityGroups_List",
    ]),
    ("2024-05-01", NET + "networkInterface.json", [
        "NetworkInterfaces_Get", "NetworkInterfaces_CreateOrUpdate", "NetworkInterfaces_Delete",
        "NetworkInterfaces_List",
    ]),
    ("2024-05-01", NET + "publicIpAddress.json", [
        "PublicIPAddresses_Get", "PublicIPAddresses_CreateOrUpdate", "PublicIPAddresses_Delete",
        "PublicIPAddresses_List",
    ]),
    ("2024-05-01", NET + "loadBalancer.json", [
        "LoadBalancers_Get", "LoadBalancers_CreateOrUpdate", "LoadBalancers_Delete", "LoadBalancers_List",
        "LoadBalancerLoadBalancingRules_Health",
    ]),
    ("2022-12-01", SUBS, ["Subscriptions_ListLocations"]),
    # the one 2026-03-01 network file staged; its health answer differs from 2024-05-01's
    # (networkInterfaceIPConfigurationId became a string id)
    ("2026-03-01", "network/resource-manager/Microsoft.Network/Network/stable/2026-03-01/loadBalancer.json",
     ["LoadBalancerLoadBalancingRules_Health"]),
]

#: recorded calls on resources the fake does not serve (left out of golden/)
SKIP_RECORDED = ("/extensions/", "/runCommand", "/runCommands/", "/reapply", "/redeploy", "/generalize",
                 "/inboundNatRules/", "/outboundRules/", "/frontendIPConfigurations/", "/backendAddressPools/",
                 "/loadBalancingRules/", "/probes/")

DROP = {"description", "readOnly", "title", "example", "x-ms-client-name", "x-ms-identifiers", "x-ms-secret",
        "x-ms-mutability", "x-ms-client-flatten", "x-ms-azure-resource", "x-ms-external", "x-ms-discriminator-value",
        "x-ms-client-default", "x-ms-enum", "x-nullable", "format", "default", "x-ms-flatten", "x-ms-pageable",
        "externalDocs", "x-ms-arm-id-details", "x-ms-visibility", "minLength", "maxLength", "pattern", "discriminator"}


class Deriver:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[Path, Any] = {}
        self.definitions: dict[str, Any] = {}
        self.unresolved: set[str] = set()

    def load(self, path: Path) -> Any | None:
        path = path.resolve()
        if path not in self.files:
            self.files[path] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        return self.files[path]

    def key(self, path: Path, name: str) -> str:
        rel = path.resolve().relative_to((self.root / "swagger").resolve())
        parts = rel.parts
        version = next((p for p in parts if p[:2] == "20" or p[:1] == "v"), "")
        return f"{parts[0]}-{version}-{rel.stem}.{name}"

    def ref(self, ref: str, base: Path) -> tuple[Path, str] | None:
        file, _, pointer = ref.partition("#")
        path = (base.parent / file).resolve() if file else base.resolve()
        if not pointer.startswith("/definitions/"):
            return None
        return path, pointer.split("/")[-1]

    def definition(self, path: Path, name: str) -> str | None:
        """Key of the (flattened, strict) definition, deriving it on first use; None if unresolvable."""
        doc = self.load(path)
        if doc is None or name not in doc.get("definitions", {}):
            self.unresolved.add(f"{path.name}#{name}")
            return None
        key = self.key(path, name)
        if key not in self.definitions:
            self.definitions[key] = {}  # placeholder: breaks cycles
            self.definitions[key] = self.convert(doc["definitions"][name], path)
        return key

    def flatten(self, schema: dict[str, Any], base: Path) -> tuple[dict[str, Any], bool]:
        """Merge ``allOf`` parents into one object schema (each property converted against the file it
        comes from); False when a parent is unresolved, so the result must not be made strict."""
        props: dict[str, Any] = {}
        required: list[str] = []
        complete = True
        for part in schema.get("allOf", []):
            part_base = base
            if "$ref" in part:
                target = self.ref(part["$ref"], base)
                doc = self.load(target[0]) if target else None
                if not target or doc is None or target[1] not in doc.get("definitions", {}):
                    complete = False
                    continue
                part, part_base = doc["definitions"][target[1]], target[0]
            merged, ok = self.flatten(part, part_base)
            complete &= ok
            if merged.get("additionalProperties") not in (None, False):
                complete = False
            props.update(merged.get("properties", {}))
            required += merged.get("required", [])
        props.update({k: self.convert(v, base) for k, v in schema.get("properties", {}).items()})
        required += schema.get("required", [])
        out = {k: v for k, v in schema.items() if k not in ("allOf", "properties", "required")}
        out = self.convert(out, base, strict=False)
        if props:
            out["properties"] = props
            out.setdefault("type", "object")
        if required:
            out["required"] = sorted(set(required))
        return out, complete

    def convert(self, schema: Any, base: Path, *, strict: bool = True) -> Any:
        if not isinstance(schema, dict):
            return schema
        nullable = schema.get("x-nullable") is True
        if "$ref" in schema:
            target = self.ref(schema["$ref"], base)
            key = self.definition(*target) if target else None
            ref: dict[str, Any] = {"$ref": f"#/definitions/{key}"} if key else {}
            return {"anyOf": [ref, {"type": "null"}]} if nullable and ref else ref
        if "allOf" in schema:
            out, complete = self.flatten(schema, base)
        else:
            out, complete = {}, True
            for k, v in schema.items():
                if k in DROP or k.startswith("x-"):
                    continue
                if k == "properties":
                    out[k] = {p: self.convert(s, base) for p, s in v.items()}
                elif k == "items":
                    out[k] = self.convert(v, base)
                elif k == "additionalProperties":
                    out[k] = self.convert(v, base) if isinstance(v, dict) else v
                elif k == "enum":
                    if (schema.get("x-ms-enum") or {}).get("modelAsString", True) is False:
                        out[k] = v
                else:
                    out[k] = v
        if strict and "properties" in out and "additionalProperties" not in out and complete:
            out["additionalProperties"] = False
            out.setdefault("type", "object")
        if nullable and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out


def derive(root: Path) -> dict[str, Any]:
    d = Deriver(root)
    operations: dict[str, Any] = {}
    for version, file, ids in OPERATIONS:
        path = (root / "swagger" / file).resolve()
        doc = d.load(path)
        found = {}
        for template, ops in doc["paths"].items():
            for method, op in ops.items():
                if isinstance(op, dict) and op.get("operationId") in ids:
                    found[op["operationId"]] = (method.upper(), template, op)
        missing = set(ids) - set(found)
        if missing:
            raise SystemExit(f"not in {file}: {sorted(missing)}")
        for op_id, (method, template, op) in found.items():
            responses = {}
            for status, resp in op["responses"].items():
                if status == "default":
                    continue
                schema = resp.get("schema")
                responses[status] = d.convert(schema, path) if schema else None
            operations[f"{version} {op_id}"] = {
                "method": method,
                "path": template,
                "responses": responses,
                "final_state_via": (op.get("x-ms-long-running-operation-options") or {}).get("final-state-via"),
                "long_running": bool(op.get("x-ms-long-running-operation")),
            }
    return {
        "generated_by": "tests/fakes/azure/data/derive.py",
        "operations": dict(sorted(operations.items())),
        "definitions": dict(sorted(d.definitions.items())),
        "unresolved": sorted(d.unresolved),
    }


def golden(root: Path) -> None:
    out = HERE / "golden"
    out.mkdir(exist_ok=True)
    for sub in ("compute", "network", "resources"):
        for f in sorted((root / "examples" / sub).glob("*.json")):
            (out / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    # recorded 2xx answers, trimmed to what the self-check needs: method, path, status, body
    for f in sorted((root / "recordings").glob("*.json")):
        entries = []
        for e in json.loads(f.read_text(encoding="utf-8"))["Entries"]:
            uri = e["RequestUri"]
            if "management.azure.com" not in uri or any(x in uri for x in SKIP_RECORDED):
                continue  # token exchanges and VM sub-resources the fake does not serve
            body = e.get("ResponseBody")
            if "/operations/" in uri and isinstance(body, dict) and "status" not in body:
                continue  # a runCommand result read through its Location URL
            entries.append({"method": e["RequestMethod"], "uri": uri.split("management.azure.com", 1)[1],
                            "status": e["StatusCode"],
                            "headers": {k: v for k, v in e["ResponseHeaders"].items()
                                        if k in ("Azure-AsyncOperation", "Location", "Retry-After")},
                            "body": body})
        name = "recording_" + ("compute_vm" if "compute" in f.name else "network_lb") + ".json"
        (out / name).write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")


def main() -> None:
    root = Path(sys.argv[1])
    data = derive(root)
    (HERE / "schemas.json").write_text(json.dumps(data, indent=None, separators=(",", ":"), sort_keys=True) + "\n",
                                       encoding="utf-8")
    golden(root)
    print(f"{len(data['operations'])} operations, {len(data['definitions'])} definitions, "
          f"unresolved: {data['unresolved']}")


if __name__ == "__main__":
    main()
