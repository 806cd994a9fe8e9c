"""Regions/zones, images and specs: paging through every page, the optional image cap and filters."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import ZoneStatus
from mcinfra.drivers.aws.driver import AwsDriver
from tests.conformance.targets import aws as aws_target


def _conn(moto_url: str, **options: Any) -> Any:
    t = aws_target.make_target(moto_url)
    return AwsDriver().connect(
        SessionInfo(
            name="cat",
            provider="aws",
            credentials=t.credentials,
            region=t.region,
            zone=t.zone,
            options={**t.options, **options},
        )
    )


def _itype(name: str) -> dict[str, Any]:
    return {
        "InstanceType": name,
        "VCpuInfo": {"DefaultVCpus": 2},
        "MemoryInfo": {"SizeInMiB": 1024},
        "ProcessorInfo": {"SupportedArchitectures": ["arm64"]},
    }


def test_specs_follow_every_page(conn: Any) -> None:
    # moto answers in one page, so the pages here are AWS-shaped answers from botocore's Stubber.
    with Stubber(conn.client.ec2) as stub:
        stub.add_response(
            "describe_instance_types", {"InstanceTypes": [_itype("a1.x")], "NextToken": "p2"}, {"MaxResults": 100}
        )
        stub.add_response(
            "describe_instance_types",
            {"InstanceTypes": [_itype("a1.y")], "NextToken": "p3"},
            {"MaxResults": 100, "NextToken": "p2"},
        )
        stub.add_response(
            "describe_instance_types", {"InstanceTypes": [_itype("a1.z")]}, {"MaxResults": 100, "NextToken": "p3"}
        )
        specs = conn.specs().list()
        stub.assert_no_pending_responses()
    assert [s.name for s in specs] == ["a1.x", "a1.y", "a1.z"]
    assert all(s.architecture == "arm64" and s.vcpus == 2 for s in specs)


def test_images_follow_pages_up_to_the_cap(moto_url: str) -> None:
    conn = _conn(moto_url, image_list_limit=3)
    img = {"ImageId": "ami-1", "State": "available", "Architecture": "x86_64"}
    expected = {
        "Owners": ["amazon"],
        "MaxResults": 5,
        "Filters": [{"Name": "state", "Values": ["available"]}, {"Name": "image-type", "Values": ["machine"]}],
    }
    with Stubber(conn.client.ec2) as stub:
        stub.add_response("describe_images", {"Images": [img, {**img, "ImageId": "ami-2"}], "NextToken": "t"}, expected)
        stub.add_response(
            "describe_images",
            {"Images": [{**img, "ImageId": "ami-3"}, {**img, "ImageId": "ami-4"}], "NextToken": "u"},
            {**expected, "NextToken": "t"},
        )
        images = conn.images().list()
    assert [i.iid.system_id for i in images] == ["ami-1", "ami-2", "ami-3"]


def test_images_follow_every_page_without_a_cap_by_default(moto_url: str) -> None:
    # tiny pages (moto answers in one page, so the pages here come from botocore's Stubber)
    conn = _conn(moto_url, image_page_size=5)
    img = {"ImageId": "ami-1", "State": "available", "Architecture": "x86_64"}
    expected = {
        "Owners": ["amazon"],
        "MaxResults": 5,
        "Filters": [{"Name": "state", "Values": ["available"]}, {"Name": "image-type", "Values": ["machine"]}],
    }
    pages = [[f"ami-{p}{i}" for i in range(5)] for p in range(3)] + [["ami-last"]]
    with Stubber(conn.client.ec2) as stub:
        for n, ids in enumerate(pages):
            out: dict[str, Any] = {"Images": [{**img, "ImageId": i} for i in ids]}
            if n + 1 < len(pages):
                out["NextToken"] = f"t{n + 1}"
            stub.add_response("describe_images", out, {**expected, **({"NextToken": f"t{n}"} if n else {})})
        images = conn.images().list()
        stub.assert_no_pending_responses()
    assert [i.iid.system_id for i in images] == [i for ids in pages for i in ids]


def test_image_list_is_owner_filtered(moto_url: str, conn: Any) -> None:
    images = conn.images().list()
    assert images and all(i.status == "Available" for i in images)
    assert _conn(moto_url, image_owners=["self"]).images().list() == []  # the account owns no AMI
    arm = _conn(moto_url, image_filters={"architecture": "arm64"}, image_list_limit=50).images().list()
    assert arm and len(arm) <= 50 and all(i.os_architecture == "arm64" for i in arm)


def test_image_and_spec_get(conn: Any) -> None:
    img = conn.images().get(aws_target.IMAGE)
    assert (img.os_architecture, img.os_platform) == ("x86_64", "Linux/UNIX")
    with pytest.raises(NotFound):
        conn.images().get("ami-00000000deadbeef0")
    with pytest.raises(NotFound):
        conn.images().get("ubuntu")
    gpu = conn.specs().get("g4dn.xlarge")
    assert (gpu.vcpus, gpu.memory_mib, gpu.gpus[0].count, gpu.gpus[0].manufacturer) == (4, 16384, 1, "NVIDIA")
    with pytest.raises(NotFound):
        conn.specs().get("t9.nonexistent")


def test_regions_and_zone_status(conn: Any) -> None:
    region = conn.region_zones().get("us-east-1")
    assert "us-east-1a" in [z.name for z in region.zones]
    assert all(z.status == ZoneStatus.AVAILABLE for z in region.zones)
    names = [r.name for r in conn.region_zones().list()]
    assert "us-east-1" in names and "eu-west-1" in names
    with pytest.raises(NotFound):
        conn.region_zones().get("mars-north-1")
