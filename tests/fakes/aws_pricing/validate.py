"""Check what the Price List fake serves against published material (see ATTRIBUTION.md):

- :func:`check_shape` — a response body against botocore's own service model for ``pricing``
  (the operation's output shape: member names, types, string lengths, ``jsonvalue`` strings);
- :func:`check_item` — one parsed PriceList item against ``price_item.schema.json``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("price_item.schema.json")


class ShapeError(ValueError):
    pass


@functools.cache
def service_model(service: str = "pricing") -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


@functools.cache
def item_validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _walk(shape: Any, value: Any, where: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: {shape.name} must be an object")
        unknown = set(value) - set(shape.members)
        if unknown:
            raise ShapeError(f"{where}: {shape.name} has no member(s) {sorted(unknown)}")
        for name in shape.required_members:
            if name not in value:
                raise ShapeError(f"{where}: {shape.name} lacks required {name}")
        for name, member in shape.members.items():
            if name in value:
                _walk(member, value[name], f"{where}.{name}")
    elif kind == "list":
        if not isinstance(value, list):
            raise ShapeError(f"{where}: {shape.name} must be a list")
        for i, item in enumerate(value):
            _walk(shape.member, item, f"{where}[{i}]")
    elif kind == "map":
        if not isinstance(value, dict):
            raise ShapeError(f"{where}: {shape.name} must be an object")
        for k, v in value.items():
            _walk(shape.key, k, f"{where}<key>")
            _walk(shape.value, v, f"{where}[{k}]")
    elif kind == "string":
        if not isinstance(value, str):
            raise ShapeError(f"{where}: {shape.name} must be a string")
        lo, hi = shape.metadata.get("min"), shape.metadata.get("max")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise ShapeError(f"{where}: length {len(value)} outside [{lo}, {hi}]")
        if shape.enum and value not in shape.enum:
            raise ShapeError(f"{where}: {value!r} not in {shape.enum}")
        if shape.serialization.get("jsonvalue"):
            json.loads(value)  # a JSON document serialised as a string
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            raise ShapeError(f"{where}: {shape.name} must be an integer")
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise ShapeError(f"{where}: {shape.name} must be a boolean")
    elif kind in ("float", "double"):
        if not isinstance(value, int | float):
            raise ShapeError(f"{where}: {shape.name} must be a number")
    elif kind == "timestamp":
        if not isinstance(value, int | float | str):
            raise ShapeError(f"{where}: {shape.name} must be a timestamp")
    else:  # blob and others: the Price List output has none
        raise ShapeError(f"{where}: unexpected shape type {kind}")


def check_shape(operation: str, body: Any, *, service: str = "pricing", output: bool = True) -> None:
    """Raise :class:`ShapeError` unless ``body`` fits the operation's output (or input) shape."""
    op = service_model(service).operation_model(operation)
    shape = op.output_shape if output else op.input_shape
    _walk(shape, body, operation)


def check_item(item: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``item`` is a price-list item."""
    item_validator().validate(item)


def error_codes(operation: str = "GetProducts", service: str = "pricing") -> set[str]:
    """The error shapes the model declares for an operation."""
    return {e.name for e in service_model(service).operation_model(operation).error_shapes}
