"""Checks bodies against Tencent Cloud's published API 3.0 material (see data/ATTRIBUTION.md).

- :func:`check_output`: a 2xx body against the action's output object from tccli's ``api.json``:
  wrong types and unknown keys are hard errors (:class:`SchemaError`); a missing
  ``output_required`` member (not a deprecated ``disabled`` one), or ``null`` for a list not
  marked nullable, is a warning (Tencent's own examples have both).
- :func:`check_input`: a request's parameters against the action's input object (unknown
  parameter, missing required one, wrong type), the way the API answers ``UnknownParameter``,
  ``MissingParameter`` and ``InvalidParameter``.
- :func:`check_sdk_model`: the SDK's own ``<Action>Response._deserialize`` under warnings as
  errors, which catches a key the SDK model lacks (the SDK itself only warns, then drops it).
- :func:`documented_codes`: the error codes a product documents (its list + the common list).
"""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"
#: service short name -> data file stem
SERVICES = {"cvm": "cvm-v20170312", "vpc": "vpc-v20170312", "clb": "clb-v20180317"}
SDK_MODELS = {
    "cvm": "tencentcloud.cvm.v20170312.models",
    "vpc": "tencentcloud.vpc.v20170312.models",
    "clb": "tencentcloud.clb.v20180317.models",
}


class SchemaError(ValueError):
    """A body the published schema rejects."""


class InputError(ValueError):
    """A request the API would refuse; ``code`` is the documented error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@cache
def spec(service: str) -> dict[str, Any]:
    return json.loads((DATA / f"{SERVICES[service]}.schema.json").read_text())


@cache
def examples(service: str) -> dict[str, list[dict[str, Any]]]:
    return json.loads((DATA / f"{SERVICES[service]}.examples.json").read_text())


@cache
def documented_codes(service: str) -> frozenset[str]:
    own = json.loads((DATA / f"{SERVICES[service]}.errorcodes.json").read_text())
    common = json.loads((DATA / "common.errorcodes.json").read_text())
    return frozenset(own) | frozenset(common)


def api_version(service: str) -> str:
    return str(spec(service)["version"])


def actions(service: str) -> list[str]:
    return sorted(spec(service)["actions"])


# ---------------------------------------------------------------- output (responses)
_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "datetime_iso": (str,),
    "int64": (int,),
    "uint64": (int,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def _check_scalar(kind: str, value: Any, path: str) -> None:
    allowed = _SCALARS.get(kind)
    if allowed is None:
        raise SchemaError(f"{path}: the schema names an unknown type {kind!r}")
    # bool is an int in Python; the API never mixes them
    if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
        raise SchemaError(f"{path}: expected {kind}, got {type(value).__name__} {value!r}")
    if kind == "uint64" and value < 0:
        raise SchemaError(f"{path}: expected uint64, got {value}")


def _check_value(objects: dict[str, Any], member: dict[str, Any], value: Any, path: str, warns: list[str]) -> None:
    kind, element = member["type"], member.get("member", "")
    if value is None:
        if member.get("value_allowed_null"):
            return
        if kind == "list":
            warns.append(f"{path}: null for a list not marked nullable")
            return
        raise SchemaError(f"{path}: null is not allowed")
    if kind == "list":
        if not isinstance(value, list):
            raise SchemaError(f"{path}: expected a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            if element in objects:
                _check_object(objects, element, item, f"{path}[{i}]", warns)
            else:
                _check_scalar(element, item, f"{path}[{i}]")
    elif kind == "object":
        _check_object(objects, element, value, path, warns)
    else:
        _check_scalar(element if element in _SCALARS else kind, value, path)


def _check_object(objects: dict[str, Any], name: str, value: Any, path: str, warns: list[str]) -> None:
    if not isinstance(value, dict):
        raise SchemaError(f"{path}: expected object {name}, got {type(value).__name__}")
    members = {m["name"]: m for m in objects[name]}
    for key in value:
        if key not in members:
            raise SchemaError(f"{path}.{key}: not a member of {name}")
    for key, member in members.items():
        if key in value:
            _check_value(objects, member, value[key], f"{path}.{key}", warns)
        elif member.get("output_required") and not member.get("disabled"):
            warns.append(f"{path}.{key}: output_required member missing")


def check_output(service: str, action: str, body: Any) -> list[str]:
    """Check ``{"Response": {...}}`` for one action; return the warnings, raise on hard errors."""
    s = spec(service)
    if action not in s["actions"]:
        raise SchemaError(f"{service}:{action} is not in the published API slice")
    if not isinstance(body, dict) or set(body) != {"Response"}:
        raise SchemaError("the body must be exactly {'Response': {...}}")
    warns: list[str] = []
    response = body["Response"]
    if isinstance(response, dict) and "Error" in response:
        raise SchemaError("an error envelope is not a 2xx body of the action")
    _check_object(s["objects"], s["actions"][action]["output"], response, "Response", warns)
    if not isinstance(response.get("RequestId"), str):
        raise SchemaError("Response.RequestId missing")
    return warns


def check_error(service: str, body: Any) -> None:
    """An error body: the envelope's shape and a code the product documents."""
    try:
        response = body["Response"]
        code, message = response["Error"]["Code"], response["Error"]["Message"]
        request_id = response["RequestId"]
    except (KeyError, TypeError) as exc:
        raise SchemaError(f"not a Tencent error envelope: {body!r}") from exc
    if set(response) != {"Error", "RequestId"} or set(response["Error"]) != {"Code", "Message"}:
        raise SchemaError(f"extra keys in the error envelope: {body!r}")
    if not all(isinstance(v, str) for v in (code, message, request_id)):
        raise SchemaError("Code, Message and RequestId must be strings")
    if code not in documented_codes(service):
        raise SchemaError(f"error code {code!r} is not documented for {service}")


def json_schema(service: str, action: str) -> dict[str, Any]:
    """The same output rules as a JSON Schema generated from api.json (objects closed with
    ``additionalProperties: false``, nullable members also take null, lists take null too since
    that is only a warning); ``check_output`` is the walker the fake runs, this is the cross-check."""
    s = spec(service)
    objects = s["objects"]
    scalars = {"string": {"type": "string"}, "datetime_iso": {"type": "string"}, "int64": {"type": "integer"},
               "int": {"type": "integer"}, "uint64": {"type": "integer", "minimum": 0}, "float": {"type": "number"},
               "bool": {"type": "boolean"}}

    def element(name: str) -> dict[str, Any]:
        return {"$ref": f"#/$defs/{name}"} if name in objects else scalars[name]

    def member_schema(m: dict[str, Any]) -> dict[str, Any]:
        kind, el = m["type"], m.get("member", "")
        if kind == "list":
            out: dict[str, Any] = {"type": "array", "items": element(el)}
        elif kind == "object":
            out = element(el)
        else:
            out = scalars[el if el in scalars else kind]
        if m.get("value_allowed_null") or kind == "list":
            out = {"anyOf": [out, {"type": "null"}]}
        return out

    defs = {name: {"type": "object", "additionalProperties": False,
                   "properties": {m["name"]: member_schema(m) for m in members}}
            for name, members in objects.items()}
    output = s["actions"][action]["output"]
    return {"$defs": defs, "type": "object", "additionalProperties": False, "required": ["Response"],
            "properties": {"Response": {"allOf": [{"$ref": f"#/$defs/{output}"}, {"required": ["RequestId"]}]}}}


# ---------------------------------------------------------------- input (requests)
def _check_input_value(objects: dict[str, Any], member: dict[str, Any], value: Any, path: str) -> None:
    try:
        _check_value(objects, member, value, path, [])
    except SchemaError as exc:
        raise InputError("InvalidParameter", str(exc)) from None


def check_input(service: str, action: str, params: Any) -> None:
    s = spec(service)
    objects = s["objects"]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InputError("InvalidParameter", "the request body must be a JSON object")
    _check_input_object(objects, s["actions"][action]["input"], params, "")


def _check_input_object(objects: dict[str, Any], name: str, params: dict[str, Any], prefix: str) -> None:
    members = {m["name"]: m for m in objects[name]}
    for key, value in params.items():
        member = members.get(key)
        if member is None:
            raise InputError("UnknownParameter", f"The parameter `{prefix}{key}` is not recognized")
        if member["type"] == "object" and isinstance(value, dict):
            _check_input_object(objects, member["member"], value, f"{prefix}{key}.")
        elif member["type"] == "list" and member.get("member") in objects and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise InputError("InvalidParameter", f"`{prefix}{key}.{i}` must be an object")
                _check_input_object(objects, member["member"], item, f"{prefix}{key}.{i}.")
        else:
            _check_input_value(objects, member, value, prefix + key)
    for key, member in members.items():
        if member.get("required") and key not in params:
            raise InputError("MissingParameter", f"The request is missing a required parameter `{prefix}{key}`")


# ---------------------------------------------------------------- the SDK's own model
def check_sdk_model(service: str, action: str, body: dict[str, Any]) -> None:
    """Deserialise with the SDK's response model; its "fileds are useless" warning is an error."""
    import importlib

    models = importlib.import_module(SDK_MODELS[service])
    model = getattr(models, f"{action}Response")()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model._deserialize(body["Response"])
    useless = [str(w.message) for w in caught if "useless" in str(w.message)]
    if useless:
        raise SchemaError(f"the SDK model {action}Response drops keys: {useless}")
