"""Public and own images: ECS ``DescribeImages`` (paged by PageNumber/PageSize)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.handlers import ImageHandler
from mcinfra.core.models import IID, ImageInfo
from mcinfra.drivers.alibaba.client import PROVIDER, AliClient
from mcinfra.drivers.kit import describe_one


def image_info(image: Any) -> ImageInfo:
    arch = {"x86_64": "x86_64", "arm64": "arm64", "i386": "x86"}.get(image.architecture or "", "NA")
    return ImageInfo(
        iid=IID(name_id=image.image_id, system_id=image.image_id),
        name=image.image_name or image.image_id,
        os_architecture=arch,
        os_platform="Windows" if (image.ostype or "").lower() == "windows" else "Linux/UNIX",
        os_distribution=image.osname_en or image.osname or "",
        os_disk_size_gb=image.size,
        status="Available" if image.status == "Available" else "Unavailable",
        extra={"owner": image.image_owner_alias, "platform": image.platform},
    )


class AliImageHandler(ImageHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    def list(self) -> list[ImageInfo]:
        return [
            image_info(i)
            for i in self.api.pages(
                "ecs", "DescribeImages", lambda b: b.images.image, region_id=self.api.region, status="Available"
            )
        ]

    def get(self, name: str) -> ImageInfo:
        if not name or not name.strip():
            raise InvalidRequest("image name must not be empty", field="name")
        found = self.api.pages(
            "ecs", "DescribeImages", lambda b: b.images.image, region_id=self.api.region, image_id=name
        )
        return image_info(describe_one((i for i in found if i.image_id == name), f"[{PROVIDER}] image {name!r}"))
