"""Checks the Alibaba fake's answers against Alibaba Cloud's own published API metadata.

``data/api.json`` is derived (``data/derive.py``) from the API-doc metadata Alibaba publishes
for API Explorer (see ``data/ATTRIBUTION.md``). Two checks:

- :func:`check_body`: a 2xx body against the action's 200 response schema, strictly: every key
  must be one the schema declares (the published format allows extra keys, so a misspelt key
  would pass it), and every value of the declared type.
- :func:`check_error`: an error's (HTTP status, ``Code``) must be listed for the action under that
  status, or, for codes the per-action lists omit (throttling...), in the product's list.
  Codes documented with ``%s`` are patterns.

The Alibaba SDK cannot catch a wrong fake: ``TeaModel.from_map`` silently drops unknown keys.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "api.json"


class SchemaViolation(ValueError):
    pass


@cache
def api() -> dict[str, Any]:
    return json.loads(DATA.read_text())


def actions() -> dict[str, Any]:
    return api()["actions"]


def _type_ok(kind: str | None, value: Any) -> bool:
    if kind is None:
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return True


def _check(schema: dict[str, Any], value: Any, where: str) -> None:
    kind = schema.get("type")
    if value is None:
        return  # the cloud omits or nulls optional members; the SDK reads both as absent
    if not _type_ok(kind, value):
        raise SchemaViolation(f"{where or '<body>'}: {type(value).__name__} where the schema says {kind}")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties")
        if props is None:
            return  # a free-form object in the schema (e.g. CloudResources)
        for key, member in value.items():
            path = f"{where}.{key}" if where else key
            if key not in props:
                raise SchemaViolation(f"{path}: not in the published schema")
            _check(props[key], member, path)
    elif kind == "array":
        items = schema.get("items") or {}
        for i, item in enumerate(value):
            _check(items, item, f"{where}[{i}]")


def check_body(action_key: str, body: Any) -> None:
    """Raise :class:`SchemaViolation` unless ``body`` fits ``product/Action``'s response schema."""
    entry = actions().get(action_key)
    if entry is None:
        raise SchemaViolation(f"{action_key}: no published schema (add the action to the derived data)")
    _check(entry["schema"], body, "")


def _matches(code: str, documented: list[str]) -> bool:
    for doc in documented:
        if doc == code:
            return True
        if "%s" in doc and re.fullmatch(re.escape(doc).replace("%s", ".+"), code):
            return True
    return False


def check_error(action_key: str, status: int, code: str) -> None:
    """Raise unless (status, code) is documented for the action (or its product)."""
    product = action_key.split("/", 1)[0]
    entry = actions().get(action_key) or {}
    if _matches(code, entry.get("errors", {}).get(str(status), [])):
        return
    if _matches(code, api()["product_errors"].get(product, {}).get(str(status), [])):
        return
    raise SchemaViolation(f"{action_key}: error {status} {code!r} is not documented by Alibaba Cloud")


_SDK_MODELS = {
    "ecs": "alibabacloud_ecs20140526.models",
    "vpc": "alibabacloud_vpc20160428.models",
    "nlb": "alibabacloud_nlb20220430.models",
}


def _paths(value: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for key, member in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= _paths(member, path)
    elif isinstance(value, list):
        for item in value:
            out |= _paths(item, prefix + "[]")
    return out


def check_sdk_keys(action_key: str, body: Any) -> None:
    """The second check: every key of ``body`` survives the SDK's own model
    (``<Action>ResponseBody().from_map(body).to_map()``), so the driver can read all of it. The
    SDK drops what its model lacks without a word; the published schema is the first check."""
    import copy
    import importlib

    product, action = action_key.split("/", 1)
    model = getattr(importlib.import_module(_SDK_MODELS[product]), f"{action}ResponseBody", None)
    if model is None:
        raise SchemaViolation(f"{action_key}: the SDK has no {action}ResponseBody model")
    lost = _paths(body) - _paths(model().from_map(copy.deepcopy(body)).to_map())
    if lost:
        raise SchemaViolation(f"{action_key}: the SDK's model drops {sorted(lost)}")
