"""Price-list items for the fake, built in the documented format (see ATTRIBUTION.md).

:func:`instance_item` makes one EC2 instance product with its terms; :func:`default_items`
the fake's catalog from ``data/ec2_linux_on_demand.json``: per instance type the shared
Linux on-demand row (``capacitystatus=Used``) plus the $0 capacity-reservation rows and a
dedicated-tenancy row that AWS lists beside it, so filters matter.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data") / "ec2_linux_on_demand.json"
ON_DEMAND = "JRTCKXETXF"  # the on-demand offer term code (AWS's published example)
PER_HOUR = "6YS6EN2CT7"  # the rate code suffix of the per-unit dimension in that example
RESERVED_1Y = "6QCMYABX3D"
EFFECTIVE = "2024-03-01T00:00:00Z"
VERSION = "20240301000000"


def sku_of(*parts: str) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:16].upper()


def dimension(sku: str, term: str, rate: str, *, unit: str, price: str, currency: str = "USD",
              begin: str = "0", end: str = "Inf", description: str = "") -> dict[str, Any]:
    code = f"{sku}.{term}.{rate}"
    return {code: {
        "unit": unit, "endRange": end, "description": description, "appliesTo": [], "rateCode": code,
        "beginRange": begin, "pricePerUnit": {currency: f"{float(price):.10f}"},
    }}


def term_of(
    sku: str, code: str, dimensions: dict[str, Any], attributes: dict[str, str] | None = None
) -> dict[str, Any]:
    return {f"{sku}.{code}": {
        "priceDimensions": dimensions, "sku": sku, "effectiveDate": EFFECTIVE, "offerTermCode": code,
        "termAttributes": attributes or {},
    }}


def instance_item(
    itype: str, *, region: str = "us-east-1", location: str = "US East (N. Virginia)", price: str = "0.1",
    currency: str = "USD", family: str = "", vcpu: str = "2", memory: str = "4 GiB", tenancy: str = "Shared",
    capacity: str = "Used", os: str = "Linux", usage_prefix: str = "", on_demand: bool = True,
    reserved: bool = False, dimensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One EC2 instance product. ``dimensions`` replaces the single hourly dimension."""
    sku = sku_of(region, itype, tenancy, capacity, os)
    usage = {"Shared": "BoxUsage", "Dedicated": "DedicatedUsage", "Host": "HostBoxUsage"}[tenancy]
    attrs = {
        "servicecode": "AmazonEC2", "servicename": "Amazon Elastic Compute Cloud", "locationType": "AWS Region",
        "location": location, "regionCode": region, "instanceType": itype,
        "instanceFamily": family or "General purpose", "vcpu": vcpu, "memory": memory, "operatingSystem": os,
        "tenancy": tenancy, "preInstalledSw": "NA", "capacitystatus": capacity, "licenseModel": "No License required",
        "usagetype": f"{usage_prefix}{usage}:{itype}", "operation": "RunInstances",
    }
    terms: dict[str, Any] = {}
    if on_demand:
        dims = dimensions if dimensions is not None else dimension(
            sku, ON_DEMAND, PER_HOUR, unit="Hrs", price=price, currency=currency,
            description=f"{price} {currency} per On Demand {os} {itype} Instance Hour")
        terms["OnDemand"] = term_of(sku, ON_DEMAND, dims)
    if reserved:
        terms["Reserved"] = term_of(sku, RESERVED_1Y, dimension(
            sku, RESERVED_1Y, "2TG2D8R56U", unit="Quantity", price="500", currency=currency,
            description="Upfront Fee"), {"LeaseContractLength": "1yr", "PurchaseOption": "All Upfront"})
    return {
        "product": {"productFamily": "Compute Instance", "attributes": attrs, "sku": sku},
        "serviceCode": "AmazonEC2", "terms": terms, "version": VERSION, "publicationDate": EFFECTIVE,
    }


def default_items() -> list[dict[str, Any]]:
    data = json.loads(DATA.read_text())
    out: list[dict[str, Any]] = []
    for region, r in data["regions"].items():
        common = {"region": region, "location": r["location"], "currency": r["currency"],
                  "usage_prefix": r["usage_prefix"]}
        for itype, (family, vcpu, memory, price) in r["types"].items():
            kw = {**common, "family": family, "vcpu": vcpu, "memory": memory}
            out.append(instance_item(itype, price=price, reserved=True, **kw))
            # AWS lists these beside the shared on-demand row; the query's filters drop them
            out.append(instance_item(itype, price="0", capacity="AllocatedCapacityReservation", **kw))
            out.append(instance_item(itype, price=price, capacity="UnusedCapacityReservation", **kw))
            out.append(instance_item(itype, price=str(float(price) * 1.1), tenancy="Dedicated", **kw))
    return out


def expected_prices(region: str) -> dict[str, float]:
    """What the fake's catalog says a region's shared Linux on-demand prices are."""
    r = json.loads(DATA.read_text())["regions"][region]
    return {itype: float(v[3]) for itype, v in r["types"].items()}
