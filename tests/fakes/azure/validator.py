"""Checks what the Azure fake serves against Azure's published API material.

- every 2xx body against the response schema of its operation, for the api-version the SDK sent,
  derived from Microsoft's OpenAPI specs into ``data/schemas.json`` (strict: unknown keys fail);
- every status code against the ones the operation documents (errors: ``default``);
- every error code against ``data/error_codes.json`` (codes Azure documents, with their statuses);
- poll bodies of long-running operations against the operation-resource format of the ARM RPC.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

DATA = Path(__file__).resolve().parent / "data"

#: api-version the SDK sends -> version of the staged spec that describes it. Network 2026-03-01's
#: VNet/NSG/NIC/public-IP files were not available; the self-consistent 2024-05-01 set stands in
#: (see ATTRIBUTION.md). Compute and subscriptions are the SDK's exact versions.
SPEC_FOR_API = {"2026-04-01": "2026-04-01", "2026-03-01": "2024-05-01", "2022-12-01": "2022-12-01"}
#: operations whose exact-version spec is staged after all (used instead of the stand-in)
EXACT = {("2026-03-01", "LoadBalancerLoadBalancingRules_Health")}

#: keys real Azure returns that the spec omits (seen in the recordings; SOURCES.md lists them)
UNDOCUMENTED_KEYS = {
    "network-2024-05-01-loadBalancer.LoadBalancingRulePropertiesFormat": ["allowBackendPortConflict",
                                                                           "enableDestinationServiceEndpoint"],
    "network-2024-05-01-loadBalancer.InboundNatRulePropertiesFormat": ["allowBackendPortConflict",
                                                                        "enableDestinationServiceEndpoint"],
    "network-2024-05-01-loadBalancer.OutboundRulePropertiesFormat": ["allocationPolicy"],
    "network-2024-05-01-networkInterface.NetworkInterface": ["kind"],
    "network-2024-05-01-networkInterface.NetworkInterfacePropertiesFormat": ["allowPort25Out"],
}

#: the operation resource an Azure-AsyncOperation URL answers (rpc/async-api-reference.md)
OPERATION_STATUS = {
    "type": "object",
    "required": ["status"],
    "additionalProperties": False,
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string"},
        "startTime": {"type": "string"},
        "endTime": {"type": "string"},
        "percentComplete": {"type": "number", "minimum": 0, "maximum": 100},
        "properties": {"type": "object"},
        "error": {
            "type": "object",
            "required": ["code"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "target": {"type": "string"}, "details": {"type": "array"}},
            "additionalProperties": False,
        },
    },
}


class SchemaViolation(AssertionError):
    pass


@cache
def _spec() -> dict[str, Any]:
    data = json.loads((DATA / "schemas.json").read_text(encoding="utf-8"))
    for key, extra in UNDOCUMENTED_KEYS.items():
        props = data["definitions"].get(key, {}).get("properties")
        if props is not None:
            for name in extra:
                props.setdefault(name, {})
    return data


@cache
def error_codes() -> dict[str, list[int]]:
    """Documented ARM error code -> the HTTP statuses it comes with."""
    return {c["code"]: c["status"] for c in json.loads((DATA / "error_codes.json").read_text())["codes"]}


@cache
def _validator(key: str, status: str) -> jsonschema.Draft4Validator | None:
    spec = _spec()
    schema = spec["operations"][key]["responses"][status]
    if schema is None:
        return None
    return jsonschema.Draft4Validator({**schema, "definitions": spec["definitions"]})


def operation(op_id: str, api_version: str) -> dict[str, Any]:
    version = SPEC_FOR_API.get(api_version)
    if version is None:
        raise SchemaViolation(f"{op_id}: api-version {api_version!r} has no staged spec (SDK upgraded?)")
    if (api_version, op_id) in EXACT:
        version = api_version
    key = f"{version} {op_id}"
    op = _spec()["operations"].get(key)
    if op is None:
        raise SchemaViolation(f"{op_id} is not among the derived operations of spec {version}")
    return {**op, "key": key}


def check_response(op_id: str, api_version: str, status: int, body: Any) -> None:
    """Raise :class:`SchemaViolation` unless ``status``/``body`` is what the operation documents."""
    op = operation(op_id, api_version)
    if str(status) not in op["responses"]:
        raise SchemaViolation(f"{op_id} documents {sorted(op['responses'])}, not {status}")
    validator = _validator(op["key"], str(status))
    if status == 202 and body in (None, b"", ""):
        return  # an accepted long-running operation may answer without a body
    if validator is None:
        if body not in (None, b"", ""):
            raise SchemaViolation(f"{op_id} {status} documents no body, got {str(body)[:80]}")
        return
    errors = sorted(validator.iter_errors(_drop_nulls(body)), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path)
        raise SchemaViolation(f"{op_id} {status} at /{where}: {e.message[:300]}")


def _drop_nulls(body: Any) -> Any:
    """Published examples send ``null`` for absent values (``"error": null``) where the spec gives an
    object type; the SDK reads both the same, so a null value counts as an absent key."""
    if isinstance(body, dict):
        return {k: _drop_nulls(x) for k, x in body.items() if x is not None}
    if isinstance(body, list):
        return [_drop_nulls(x) for x in body]
    return body


def check_operation_status(body: Any) -> None:
    errors = list(jsonschema.Draft4Validator(OPERATION_STATUS).iter_errors(body))
    if errors:
        raise SchemaViolation(f"operation status: {errors[0].message[:300]}")
    if body["status"] in ("Failed", "Canceled"):
        code = body.get("error", {}).get("code")
        if code is None:
            raise SchemaViolation("a Failed/Canceled operation must carry error.code (ARM RPC)")


def check_error(status: int, body: Any) -> None:
    """An error answer must be the ARM envelope with a documented code and a matching status."""
    if not (isinstance(body, dict) and isinstance(body.get("error"), dict)):
        raise SchemaViolation(f"error {status} is not the ARM envelope: {str(body)[:120]}")
    err = body["error"]
    if not isinstance(err.get("code"), str) or not isinstance(err.get("message"), str):
        raise SchemaViolation("the ARM error envelope needs string code and message")
    statuses = error_codes().get(err["code"])
    if statuses is None:
        raise SchemaViolation(f"error code {err['code']!r} is not one Azure documents (data/error_codes.json)")
    if status not in statuses:
        raise SchemaViolation(f"error code {err['code']!r} comes with {statuses}, not {status}")
