"""Images = CVM images (DescribeImages, Offset/Limit paged). An image's name for mcinfra is its
ImageId (``img-...``), as CB-Spider uses it; ``list`` shows the public images."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.handlers import ImageHandler
from mcinfra.core.models import IID, ImageInfo
from mcinfra.drivers.kit import describe_one
from mcinfra.drivers.tencent.client import TencentClient

ARCH = {"x86_64": "x86_64", "arm": "arm64", "arm64": "arm64", "aarch64": "arm64", "i386": "x86_32"}


def image_info(img: Any) -> ImageInfo:
    platform = "Windows" if "windows" in (img.Platform or "").lower() else "Linux/UNIX"
    return ImageInfo(
        iid=IID(name_id=img.ImageId, system_id=img.ImageId),
        name=img.ImageName or img.ImageId,
        os_architecture=ARCH.get((img.Architecture or "").lower(), "NA"),
        os_platform=platform,
        os_distribution=img.OsName or "",
        os_disk_size_gb=img.ImageSize,
        status="Available" if img.ImageState == "NORMAL" else "Unavailable",
        extra={"image_type": img.ImageType, "platform": img.Platform, "created": img.CreatedTime,
               "source": img.ImageSource},
    )


class TencentImageHandler(ImageHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    def list(self) -> list[ImageInfo]:
        public = {"Filters": [{"Name": "image-type", "Values": ["PUBLIC_IMAGE"]}]}
        return [image_info(i) for i in self.api.list_all("cvm", "DescribeImages", "ImageSet", public)]

    def get(self, name: str) -> ImageInfo:
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest("image must be a non-empty image id (img-...)", field="image")
        page = self.api.call("cvm", "DescribeImages", {"ImageIds": [name.strip()]}, idempotent=True)
        return image_info(describe_one(page.ImageSet or [], f"[tencent] image {name}"))
