"""Images = Glance v2 images (by name or id)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import ImageHandler
from mcinfra.core.models import IID, ImageInfo
from mcinfra.drivers.openstack.client import OpenStackClient


def image_info(img: Any) -> ImageInfo:
    distro = " ".join(str(p) for p in (getattr(img, "os_distro", None), getattr(img, "os_version", None)) if p)
    return ImageInfo(
        iid=IID(name_id=img.name or img.id, system_id=img.id),
        name=img.name or img.id,
        os_architecture=getattr(img, "architecture", None) or "NA",
        os_platform="Linux/UNIX" if distro and "windows" not in distro.lower() else "NA",
        os_distribution=distro or (img.name or ""),
        os_disk_type=img.disk_format or "NA",
        os_disk_size_gb=img.min_disk or None,
        status="Available" if img.status == "active" else "Unavailable",
        extra={"visibility": img.visibility, "size": img.size},
    )


class OpenStackImageHandler(ImageHandler):
    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    def list(self) -> list[ImageInfo]:
        return [image_info(i) for i in self.client.list("images", self.client.image.images)]

    def find(self, name: str) -> Any:
        """The Glance image with this name (or id)."""
        for img in self.client.list(f"image {name}", self.client.image.images, name=name):
            return img
        try:
            return self.client.read(f"image {name}", self.client.image.get_image, name)
        except NotFound:
            raise NotFound(f"[openstack] image {name!r} not found") from None

    def get(self, name: str) -> ImageInfo:
        return image_info(self.find(name))
