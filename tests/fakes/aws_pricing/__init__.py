"""A loopback fake of the AWS Price List Query API (``AWSPriceListService.GetProducts``).

moto 5.2.1 does not implement ``pricing``, so the AWS driver's price handler is tested here:
boto3's real ``pricing`` client (awsJson1_1: ``POST /`` with ``X-Amz-Target``) talks to a
:class:`tests.fakes.server.LoopbackFake`. The fake filters with TERM_MATCH, pages with an opaque
``NextToken`` (``MaxResults`` 1..100), answers errors in the awsJson error format, and checks
every body it serves against botocore's service model and every PriceList item against the
documented item format (validate.py, ATTRIBUTION.md); a body that fails is answered with a 500
and recorded in ``schema_errors``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from typing import Any

from tests.fakes.aws_pricing.catalog import default_items, expected_prices, instance_item
from tests.fakes.aws_pricing.validate import check_item, check_shape, error_codes
from tests.fakes.server import HttpError, LoopbackFake, Request, Response, Route, RouteTable

__all__ = ["PricingFake", "default_items", "expected_prices", "instance_item"]

TARGET_PREFIX = "AWSPriceListService."

def aws_json_error(status: int, code: str, message: str) -> dict[str, Any]:
    """The awsJson1_1 error body: botocore reads the code from ``__type``."""
    return {"__type": code, "message": message}


def _header(req: Request, name: str) -> str:
    for k, v in req.headers.items():
        if k.lower() == name.lower():
            return v
    return ""


class PricingFake(LoopbackFake):
    """Serve ``items`` (parsed price-list items). ``ignore_filters`` names filter fields the
    fake does not apply (to show the driver its own guard against loose answers)."""

    def __init__(self, items: Iterable[dict[str, Any]] | None = None, *, ignore_filters: Iterable[str] = ()) -> None:
        self.items = list(default_items() if items is None else items)
        self.ignore_filters = {f.lower() for f in ignore_filters}
        self.operations: list[str] = []
        self._op = ""
        table = RouteTable()
        table.add("POST", "/", self._dispatch)
        super().__init__(table, error_body=aws_json_error, validate=self._validate)

    # ------------------------------------------------------------------ helpers for tests
    def reset(self) -> None:
        """Back to the default catalog with every filter applied, no faults, nothing recorded."""
        with self._lock:
            self.items = default_items()
            self.ignore_filters = set()
            self.operations.clear()
            self.schema_errors.clear()
            self.served = self.validated = 0
        self.clear_faults()
        self.clear_requests()

    def throttle(self, times: int, *, skip: int = 0) -> None:
        """The next ``times`` calls (after ``skip``) answer ThrottlingException (HTTP 400)."""
        self.inject("POST", "^/$", status=400, reason="ThrottlingException", message="Rate exceeded",
                    times=times, skip=skip)

    def get_products_calls(self) -> list[Request]:
        return [r for r in self.find("POST", "^/$") if _header(r, "X-Amz-Target").endswith(".GetProducts")]

    # ------------------------------------------------------------------ the API
    def _dispatch(self, req: Request) -> Response:
        target = _header(req, "X-Amz-Target")
        if not target.startswith(TARGET_PREFIX):
            raise HttpError(400, "UnknownOperationException", f"unknown target {target!r}")
        if not _header(req, "Content-Type").startswith("application/x-amz-json-1.1"):
            raise HttpError(400, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
        self._op = target[len(TARGET_PREFIX):]
        self.operations.append(self._op)
        if self._op != "GetProducts":
            raise HttpError(400, "UnknownOperationException", f"the fake serves GetProducts only, not {self._op}")
        body = req.body if isinstance(req.body, dict) else {}
        try:
            check_shape("GetProducts", body, output=False)  # botocore sent what its model says
        except ValueError as exc:
            raise HttpError(400, "InvalidParameterException", str(exc)) from None
        return Response(200, self._get_products(body), headers={"Content-Type": "application/x-amz-json-1.1"})

    def _matches(self, item: dict[str, Any], filters: list[dict[str, str]]) -> bool:
        attrs = item["product"]["attributes"]
        for f in filters:
            if f["Type"] != "TERM_MATCH":
                raise HttpError(400, "InvalidParameterException", f"the fake applies TERM_MATCH only, not {f['Type']}")
            field, value = f["Field"], f["Value"]
            if field.lower() in self.ignore_filters:
                continue
            have = item["serviceCode"] if field == "ServiceCode" else attrs.get(field)
            if have is None or have.lower() != value.lower():  # TERM_MATCH ignores case
                return False
        return True

    def _get_products(self, body: dict[str, Any]) -> dict[str, Any]:
        code = body["ServiceCode"]
        filters = [{"Type": "TERM_MATCH", "Field": "ServiceCode", "Value": code}, *body.get("Filters", [])]
        found = [i for i in self.items if self._matches(i, filters)]
        size = int(body.get("MaxResults") or 100)
        if not 1 <= size <= 100:
            raise HttpError(400, "InvalidParameterException", "MaxResults must be between 1 and 100")
        query = hashlib.sha1(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:12]
        start = 0
        if body.get("NextToken"):
            try:
                offset, _, owner = base64.b64decode(body["NextToken"]).decode().partition(":")
                start = int(offset)
            except (ValueError, UnicodeDecodeError):
                raise HttpError(400, "InvalidNextTokenException", "The NextToken is not valid") from None
            if owner != query:
                raise HttpError(400, "InvalidNextTokenException", "The NextToken belongs to another query")
        page = found[start:start + size]
        out: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(i) for i in page]}
        if start + size < len(found):
            out["NextToken"] = base64.b64encode(f"{start + size}:{query}".encode()).decode()
        return out

    def _validate(self, route: Route, body: Any) -> None:
        check_shape(self._op, body)
        for raw in body.get("PriceList", []):
            check_item(json.loads(raw))


def modelled_errors() -> set[str]:
    """The GetProducts error codes in botocore's model (the fake's injected codes come from it)."""
    return error_codes("GetProducts")
