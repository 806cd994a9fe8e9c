"""Prices through the AWS Price List Query API: boto3's real ``pricing`` client against the
loopback fake in tests/fakes/aws_pricing (moto has no ``pricing``). Every body the fake serves
is checked against botocore's model and the documented item format (``fake.schema_errors``)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

import pytest

from mcinfra.core.errors import CloudError, InvalidRequest, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.aws.driver import AwsDriver
from mcinfra.drivers.aws.options import nearest_pricing_region

pytest.importorskip("jsonschema")

from tests.fakes.aws_pricing import PricingFake, expected_prices, instance_item, modelled_errors
from tests.fakes.aws_pricing.catalog import ON_DEMAND, PER_HOUR, dimension, sku_of
from tests.fakes.aws_pricing.validate import check_item, check_shape

CREDS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def server() -> Iterator[PricingFake]:
    with PricingFake() as f:  # one server per module: stopping one takes its poll interval
        yield f


@pytest.fixture
def fake(server: PricingFake) -> Iterator[PricingFake]:
    server.reset()
    yield server
    assert not server.schema_errors, server.schema_errors


def connect(fake: PricingFake, region: str = "us-east-1", **options: Any) -> Any:
    opts = {"pricing_endpoint_url": fake.url, "retry_base": 0.001, **options}
    return AwsDriver().connect(SessionInfo(name="p", provider="aws", credentials=CREDS, region=region, options=opts))


def scope_region(fake: PricingFake) -> set[str]:
    """The regions the requests were signed for (SigV4 credential scope): the endpoint region."""
    out = set()
    for r in fake.get_products_calls():
        auth = next(v for k, v in r.headers.items() if k.lower() == "authorization")
        out.add(re.search(r"Credential=[^/]+/\d+/([^/]+)/pricing/", auth).group(1))  # type: ignore[union-attr]
    return out


# ------------------------------------------------------------------ the fake against published material
def test_item_schema_accepts_the_published_example() -> None:
    import botocore.loaders

    examples = botocore.loaders.Loader().load_service_model("pricing", "examples-1")["examples"]["GetProducts"]
    output = examples[0]["output"]
    check_shape("GetProducts", output)
    for raw in output["PriceList"]:
        check_item(json.loads(raw))


def test_the_fake_models_only_errors_botocore_declares() -> None:
    assert {"ThrottlingException", "InvalidNextTokenException", "InternalErrorException"} <= modelled_errors()


# ------------------------------------------------------------------ listing
def test_list_follows_every_page_with_the_documented_filters(fake: PricingFake) -> None:
    rows = connect(fake, pricing_page_size=3).prices().list()
    assert {r.spec: r.price_per_hour for r in rows} == expected_prices("us-east-1")
    assert all(r.currency == "USD" and r.source == "aws-price-list" and r.region == "us-east-1" for r in rows)
    calls = fake.get_products_calls()
    assert len(calls) == math.ceil(len(rows) / 3) and fake.validated == len(calls)
    sent = {f["Field"]: f["Value"] for f in calls[0].body["Filters"]}
    assert sent == {"regionCode": "us-east-1", "operatingSystem": "Linux", "tenancy": "Shared",
                    "preInstalledSw": "NA", "capacitystatus": "Used"}
    assert calls[0].body["ServiceCode"] == "AmazonEC2" and calls[0].body["MaxResults"] == 3
    assert [c.body.get("NextToken") is None for c in calls] == [True] + [False] * (len(calls) - 1)


def test_get_asks_for_one_instance_type(fake: PricingFake) -> None:
    price = connect(fake).prices().get("m5.large")
    assert (price.spec, price.price_per_hour, price.currency) == ("m5.large", 0.096, "USD")
    (call,) = fake.get_products_calls()
    assert {"Type": "TERM_MATCH", "Field": "instanceType", "Value": "m5.large"} in call.body["Filters"]
    with pytest.raises(NotFound):
        connect(fake).prices().get("t9.nonexistent")


def test_endpoint_region_is_the_nearest_or_the_option(fake: PricingFake) -> None:
    connect(fake, region="eu-central-1").prices().list()
    assert scope_region(fake) == {"eu-central-1"}
    fake.clear_requests()
    connect(fake, region="eu-central-1", pricing_region="us-east-1").prices().list()
    assert scope_region(fake) == {"us-east-1"}
    regions = ("us-west-2", "eu-west-1", "ap-northeast-1", "cn-north-1", "sa-east-1")
    assert [nearest_pricing_region(r) for r in regions] == [
        "us-east-1", "eu-central-1", "ap-south-1", "cn-northwest-1", "us-east-1"]


@pytest.mark.parametrize("options", [{"pricing_region": "us-west-2"}, {"pricing_page_size": 101}])
def test_bad_pricing_options_fail_before_any_call(fake: PricingFake, options: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest) as err:
        connect(fake, **options)
    assert err.value.field == f"options.{next(iter(options))}"
    assert fake.served == 0


def test_non_usd_prices_keep_their_currency(fake: PricingFake) -> None:
    rows = connect(fake, region="cn-north-1").prices().list()
    assert [(r.spec, r.price_per_hour, r.currency) for r in rows] == [("t3.micro", 0.0912, "CNY")]
    assert scope_region(fake) == {"cn-northwest-1"}


# ------------------------------------------------------------------ items that are not one plain price
def _only(fake: PricingFake, *items: dict[str, Any]) -> None:
    fake.items = list(items)


def test_items_without_on_demand_terms_are_skipped(fake: PricingFake) -> None:
    _only(fake, instance_item("m5.large", on_demand=False, reserved=True), instance_item("c5.large", price="0.085"))
    assert [r.spec for r in connect(fake).prices().list()] == ["c5.large"]
    with pytest.raises(NotFound):
        connect(fake).prices().get("m5.large")


def test_multiple_price_dimensions_take_the_first_hourly_tier(fake: PricingFake) -> None:
    sku = sku_of("us-east-1", "m5.large", "Shared", "Used", "Linux")
    dims = {
        **dimension(sku, ON_DEMAND, "UPFRONT01", unit="Quantity", price="9"),
        **dimension(sku, ON_DEMAND, "TIER02", unit="Hrs", price="0.08", begin="750", end="Inf"),
        **dimension(sku, ON_DEMAND, PER_HOUR, unit="Hrs", price="0.096", begin="0", end="750"),
    }
    _only(fake, instance_item("m5.large", dimensions=dims))
    (row,) = connect(fake).prices().list()
    assert (row.spec, row.price_per_hour) == ("m5.large", 0.096)
    assert row.extra["rate_code"].endswith(PER_HOUR)


def test_zero_priced_and_other_tenancy_rows_never_become_prices(fake: PricingFake) -> None:
    # a loose answer (as if the filters were not applied) still yields only shared, used prices
    fake.ignore_filters = {"capacitystatus", "tenancy"}
    rows = connect(fake).prices().list()
    assert {r.spec: r.price_per_hour for r in rows} == expected_prices("us-east-1")
    _only(fake, instance_item("m5.large", price="0"), instance_item("c5.large", price="0.085"))
    assert [r.spec for r in connect(fake).prices().list()] == ["c5.large"]


# ------------------------------------------------------------------ the choke point: retries and errors
def test_throttling_is_retried_and_counted_at_the_fake(fake: PricingFake) -> None:
    fake.throttle(3)
    rows = connect(fake, pricing_page_size=5, retry_attempts=5).prices().list()
    assert len(rows) == len(expected_prices("us-east-1"))
    pages = math.ceil(len(rows) / 5)
    assert len(fake.get_products_calls()) == pages + 3


def test_throttling_past_the_attempts_is_a_throttled_cloud_error(fake: PricingFake) -> None:
    fake.throttle(10)
    with pytest.raises(CloudError) as err:
        connect(fake, retry_attempts=2).prices().list()
    assert (err.value.code, err.value.throttled) == ("ThrottlingException", True)
    assert len(fake.get_products_calls()) == 2  # botocore's own retries are off: the kit's policy counts


def test_server_errors_are_retried_and_bad_requests_are_not(fake: PricingFake) -> None:
    fake.inject("POST", "^/$", status=500, reason="InternalErrorException", message="try later", times=1)
    assert connect(fake).prices().get("t2.micro").price_per_hour == 0.0116
    assert len(fake.get_products_calls()) == 2
    fake.clear_requests()
    fake.inject("POST", "^/$", status=400, reason="InvalidParameterException", message="bad filter", times=5)
    with pytest.raises(CloudError) as err:
        connect(fake).prices().list()
    assert (err.value.code, err.value.throttled) == ("InvalidParameterException", False)
    assert len(fake.get_products_calls()) == 1
    assert "testing" not in str(err.value)  # no credential in the message


def test_the_price_capability_is_declared() -> None:
    assert "price" in AwsDriver().capabilities().kinds


def test_a_connection_pointed_at_a_test_endpoint_sends_price_calls_there(fake: PricingFake) -> None:
    """With ``endpoint_url`` set and no ``pricing_endpoint_url``, the Price List calls go to
    ``endpoint_url`` too, never to the real AWS."""
    session = AwsDriver().connect(SessionInfo(name="p", provider="aws", credentials=CREDS, region="us-east-1",
                                              options={"endpoint_url": fake.url, "retry_base": 0.001}))
    assert session.prices().list()
    assert fake.get_products_calls()
