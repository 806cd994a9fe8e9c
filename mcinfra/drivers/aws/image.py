"""Public machine images: get by AMI id; list every page of an owner-filtered set (by default
Amazon's own machine images, see docs/aws.md), because an unfiltered region lists well over
100,000 AMIs. There is no cap unless the connection sets ``image_list_limit``."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import ImageHandler
from mcinfra.core.models import IID, ImageInfo
from mcinfra.drivers.aws.client import AwsClient

_ARCH = {
    "x86_64": "x86_64",
    "arm64": "arm64",
    "i386": "x86_32",
    "x86_64_mac": "x86_64_mac",
    "arm64_mac": "arm64_mac",
}


def image_info(img: dict[str, Any]) -> ImageInfo:
    root = next(
        (b for b in img.get("BlockDeviceMappings", []) if b.get("DeviceName") == img.get("RootDeviceName")),
        {},
    )
    platform = img.get("PlatformDetails") or ("Windows" if img.get("Platform") == "windows" else "Linux/UNIX")
    return ImageInfo(
        iid=IID(name_id=img["ImageId"], system_id=img["ImageId"]),
        name=img.get("Name") or img["ImageId"],
        os_architecture=_ARCH.get(img.get("Architecture", ""), "NA"),
        os_platform="Windows" if "windows" in platform.lower() else "Linux/UNIX",
        os_distribution=img.get("Description") or img.get("Name") or "",
        os_disk_type=root.get("Ebs", {}).get("VolumeType") or img.get("RootDeviceType") or "NA",
        os_disk_size_gb=root.get("Ebs", {}).get("VolumeSize"),
        status="Available" if img.get("State", "available") == "available" else "Unavailable",
        extra={
            "owner_id": img.get("OwnerId"),
            "root_device_name": img.get("RootDeviceName"),
            "creation_date": img.get("CreationDate"),
            "virtualization": img.get("VirtualizationType"),
        },
    )


class AwsImageHandler(ImageHandler):
    """Options: ``image_owners``, ``image_filters`` (added to state=available and
    image-type=machine), ``image_list_limit`` (None: every page), ``image_page_size``
    (see :class:`AwsOptions`)."""

    def __init__(self, client: AwsClient) -> None:
        self.api = client
        opts = client.options
        self.owners = list(opts.image_owners)
        self.limit = opts.image_list_limit
        # DescribeImages takes MaxResults 5..1000; a page never asks for more than the cap needs
        self.page_size = max(5, min(opts.image_page_size, self.limit or opts.image_page_size))
        filters = {"state": ["available"], "image-type": ["machine"]}
        filters.update({k: list(v) for k, v in opts.image_filters.items()})
        self.filters = [{"Name": k, "Values": v} for k, v in filters.items()]

    def list(self) -> list[ImageInfo]:
        return [
            image_info(i)
            for i in self.api.pages(
                "ec2",
                "describe_images",
                "Images",
                limit=self.limit,
                what="images",
                Owners=self.owners,
                Filters=self.filters,
                MaxResults=self.page_size,
            )
        ]

    def get(self, name: str) -> ImageInfo:
        if not name.startswith("ami-"):
            raise NotFound(f"[aws] image {name!r} not found (AWS image ids start with 'ami-')")
        found = self.api.describe("ec2", "describe_images", "Images", what=f"image {name!r}", ImageIds=[name])
        return image_info(found)
