"""On-demand instance prices from the AWS Price List Query API (``pricing.get_products``).

One query per region: ServiceCode ``AmazonEC2`` with TERM_MATCH filters regionCode=<region>,
operatingSystem=Linux, tenancy=Shared, preInstalledSw=NA, capacitystatus=Used (the price of
a running instance, not of an idle capacity reservation), every page followed. Each PriceList
item is a JSON string in the price-list format (AWS Billing User Guide, "Reading an offer
file"): ``product.attributes.instanceType`` and ``terms.OnDemand.<term>.priceDimensions.<rate>``
with ``unit`` and ``pricePerUnit.{currency}``. See docs/aws.md ("Prices").
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import PriceHandler
from mcinfra.core.models import PriceInfo
from mcinfra.drivers.aws.client import AwsClient
from mcinfra.drivers.aws.options import nearest_pricing_region

log = logging.getLogger("mcinfra.drivers.aws")

SOURCE = "aws-price-list"
#: the product attributes every priced row must carry (sent as filters, checked again on receipt:
#: AWS lists $0 capacity-reservation and dedicated-host rows beside the shared on-demand one)
MATCH = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
}
#: a price dimension in these units is per instance-hour
HOURLY_UNITS = frozenset({"Hrs", "Hours", "hrs", "hours"})


def _decimal(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None


def _hourly(dimensions: dict[str, Any]) -> Iterator[tuple[float, str, dict[str, Any]]]:
    """(price, currency, dimension) of the hourly dimensions of one term, first tier first."""
    tiers = sorted(dimensions.values(), key=lambda d: _decimal(d.get("beginRange")) or 0.0)
    for dim in tiers:
        if dim.get("unit") not in HOURLY_UNITS:
            continue
        per_unit = dim.get("pricePerUnit") or {}
        # USD is the list's own currency; the China partition publishes CNY only
        currency = "USD" if "USD" in per_unit else next(iter(sorted(per_unit)), None)
        price = _decimal(per_unit.get(currency)) if currency else None
        if currency and price is not None:
            yield price, currency, dim


def price_of_item(item: dict[str, Any], region: str) -> PriceInfo | None:
    """The on-demand hourly price one PriceList item gives, or ``None`` when the item is not a
    shared Linux on-demand instance price (no OnDemand term, other attributes, only $0 rows)."""
    product = item.get("product") or {}
    attrs = product.get("attributes") or {}
    itype = attrs.get("instanceType")
    if not itype or any(attrs.get(k, v) != v for k, v in MATCH.items()):
        return None
    terms = (item.get("terms") or {}).get("OnDemand") or {}
    best: tuple[float, str, dict[str, Any], dict[str, Any]] | None = None
    for term in terms.values():
        for price, currency, dim in _hourly(term.get("priceDimensions") or {}):
            # AWS lists $0.00 rows for capacity it bills elsewhere (reserved/allocated hosts)
            if price > 0 and (best is None or price < best[0]):
                best = (price, currency, dim, term)
            break  # the first hourly tier is the price of the first instance-hour
    if best is None:
        return None
    price, currency, dim, term = best
    return PriceInfo(
        spec=itype,
        region=attrs.get("regionCode") or region,
        price_per_hour=price,
        currency=currency,
        os="Linux",
        source=SOURCE,
        extra={
            "sku": product.get("sku") or term.get("sku"),
            "rate_code": dim.get("rateCode"),
            "effective_date": term.get("effectiveDate"),
            "publication_date": item.get("publicationDate"),
            "version": item.get("version"),
            "usage_type": attrs.get("usagetype"),
            "operation": attrs.get("operation"),
            "description": dim.get("description"),
        },
    )


def merge(items: Iterable[dict[str, Any]], region: str) -> list[PriceInfo]:
    """One price per instance type: the lowest non-zero one when AWS lists several matching
    items (e.g. the same type under two usage types); in the order first seen."""
    out: dict[str, PriceInfo] = {}
    for item in items:
        row = price_of_item(item, region)
        if row is None:
            continue
        seen = out.get(row.spec)
        if seen is None or row.price_per_hour < seen.price_per_hour:
            out[row.spec] = row
    return list(out.values())


class AwsPriceHandler(PriceHandler):
    """Options: ``pricing_region`` (None: the endpoint nearest the connection's region),
    ``pricing_endpoint_url`` (tests), ``pricing_page_size`` (see :class:`AwsOptions`)."""

    def __init__(self, client: AwsClient) -> None:
        self.api = client
        opts = client.options
        self.endpoint_region = opts.pricing_region or nearest_pricing_region(client.region)
        self.page_size = opts.pricing_page_size

    def _filters(self, **more: str) -> list[dict[str, str]]:
        match = {"regionCode": self.api.region, **MATCH, **more}
        return [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in match.items()]

    def _items(self, filters: list[dict[str, str]]) -> Iterator[dict[str, Any]]:
        for raw in self.api.pages(
            "pricing", "get_products", "PriceList", region=self.endpoint_region, what="prices",
            ServiceCode="AmazonEC2", Filters=filters, FormatVersion="aws_v1", MaxResults=self.page_size,
        ):
            try:
                item = json.loads(raw) if isinstance(raw, str) else raw
            except ValueError:
                log.warning("aws prices: a PriceList item is not JSON; skipped")
                continue
            if isinstance(item, dict):
                yield item

    def list(self) -> list[PriceInfo]:
        return merge(self._items(self._filters()), self.api.region)

    def get(self, name: str) -> PriceInfo:
        rows = merge(self._items(self._filters(instanceType=name)), self.api.region)
        for row in rows:
            if row.spec == name:
                return row
        raise NotFound(f"[aws] no on-demand Linux price for spec {name!r} in {self.api.region}")
