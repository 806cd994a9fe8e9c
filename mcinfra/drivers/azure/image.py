"""Images = marketplace images, named by their URN ``publisher:offer:sku:version`` (``latest``
resolves to the newest version). ``list`` reports the newest version of each ``publisher:offer:sku``
of option ``images``: the marketplace has tens of thousands of images, walked one level per call."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest, NotFound
from mcinfra.core.handlers import ImageHandler
from mcinfra.core.models import IID, ImageInfo
from mcinfra.drivers.azure.client import AzureClient, text


def parse_urn(urn: str) -> tuple[str, str, str, str]:
    parts = [p.strip() for p in (urn or "").split(":")]
    if len(parts) == 3:
        parts.append("latest")
    if len(parts) != 4 or not all(parts):
        raise InvalidRequest(f"Azure image {urn!r} is not a URN 'publisher:offer:sku[:version]'", field="image")
    return parts[0], parts[1], parts[2], parts[3]


def image_info(publisher: str, offer: str, sku: str, version: str, img: Any) -> ImageInfo:
    os_disk = getattr(img, "os_disk_image", None)
    os_type = text(getattr(os_disk, "operating_system", None))
    arch = text(getattr(img, "architecture", None)).lower()
    urn = f"{publisher}:{offer}:{sku}:{version}"
    return ImageInfo(
        iid=IID(name_id=urn, system_id=urn), name=urn,
        os_architecture={"x64": "x86_64", "arm64": "arm64"}.get(arch, "NA"),
        os_platform="Windows" if os_type.lower() == "windows" else "Linux/UNIX" if os_type else "NA",
        os_distribution=f"{offer} {sku}", os_disk_type="NA",
        status="Unavailable" if text(getattr(getattr(img, "image_deprecation_status", None), "image_state", None)
                                     ).lower() in ("scheduledfordeprecation", "deprecated") else "Available",
        extra={"publisher": publisher, "offer": offer, "sku": sku, "version": version,
               "hyper_v_generation": text(getattr(img, "hyper_v_generation", None))},
    )


class AzureImageHandler(ImageHandler):
    def __init__(self, api: AzureClient) -> None:
        self.api = api

    def newest(self, publisher: str, offer: str, sku: str) -> str:
        found = self.api.call("compute", "virtual_machine_images.list", self.api.location, publisher, offer, sku,
                            top=1, orderby="name desc", idempotent=True)
        if not found:
            raise NotFound(f"no version of image {publisher}:{offer}:{sku} in {self.api.location}")
        return found[0].name

    def resolve(self, urn: str) -> tuple[str, str, str, str, Any]:
        """(publisher, offer, sku, exact version, image) of a URN; NotFound if Azure has no such image."""
        publisher, offer, sku, version = parse_urn(urn)
        if version.lower() == "latest":
            version = self.newest(publisher, offer, sku)
        img = self.api.call("compute", "virtual_machine_images.get", self.api.location, publisher, offer, sku, version,
                          idempotent=True)
        return publisher, offer, sku, version, img

    def get(self, name: str) -> ImageInfo:
        """The image a URN names; ``latest`` is resolved, so the system id is the exact version's URN
        (the one ``list`` shows) while ``name_id`` keeps the name asked for."""
        publisher, offer, sku, version, img = self.resolve(name)
        info = image_info(publisher, offer, sku, version, img)
        return info.model_copy(update={"iid": IID(name_id=name, system_id=info.iid.system_id)})

    def list(self) -> list[ImageInfo]:
        out = []
        for triple in self.api.opts.images:
            try:
                publisher, offer, sku, version, img = self.resolve(triple)
            except NotFound:
                continue  # not offered in this location
            out.append(image_info(publisher, offer, sku, version, img))
        return out
