"""Public images of the image projects (option ``image_projects``, default debian-cloud and
ubuntu-os-cloud). An image is found by name, ``project/name``, a (partial) self-link, or a
family name (``debian-12``, ``debian-cloud/debian-12``), which resolves to its newest image."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest, NotFound
from mcinfra.core.handlers import ImageHandler
from mcinfra.core.models import IID, ImageInfo
from mcinfra.drivers.gcp.client import GcpClient


def _split(ref: str) -> tuple[str | None, str, bool]:
    """(project or None, name, is_family) of an image reference."""
    path = ref.strip().split("/compute/v1/", 1)[-1].strip("/")
    parts = path.split("/")
    if len(parts) >= 5 and parts[0] == "projects" and parts[2:4] == ["global", "images"]:
        if parts[4] == "family" and len(parts) == 6:
            return parts[1], parts[5], True
        return parts[1], parts[4], False
    if len(parts) == 2:
        return parts[0], parts[1], False
    if len(parts) == 1 and parts[0]:
        return None, parts[0], False
    raise InvalidRequest(f"image {ref!r} is not an image name, project/name or self-link", field="image")


class GcpImageHandler(ImageHandler):
    def __init__(self, api: GcpClient) -> None:
        self.api = api

    @staticmethod
    def _info(project: str, img: Any) -> ImageInfo:
        arch = (img.architecture or "").lower()
        return ImageInfo(
            iid=IID(name_id=img.name, system_id=f"{project}/{img.name}"),
            name=img.name,
            os_architecture={"x86_64": "x86_64", "arm64": "arm64"}.get(arch, "NA"),
            os_platform="Windows" if "windows" in project else "Linux/UNIX",
            os_distribution=img.description or img.family,
            os_disk_type="NA",
            os_disk_size_gb=int(img.disk_size_gb) if img.disk_size_gb else None,
            status="Available" if img.status == "READY" else "Unavailable",
            extra={"family": img.family, "project": project, "self_link": img.self_link},
        )

    def _find(self, ref: str) -> tuple[str, Any]:
        project, name, family = _split(ref)
        projects = [project] if project else self.api.image_projects
        for p in projects:
            method, arg = ("get_from_family", {"family": name}) if family else ("get", {"image": name})
            try:
                return p, self.api.call("ImagesClient", method, idempotent=True, project=p, **arg)
            except NotFound:
                pass
            if not family:
                try:  # a bare family name is what users usually have in mind (debian-12)
                    return p, self.api.call("ImagesClient", "get_from_family", idempotent=True, project=p, family=name)
                except NotFound:
                    pass
        raise NotFound(f"image {ref!r} not found in {', '.join(projects)}")

    def source_image(self, ref: str) -> str:
        """The image's partial URL for an instance boot disk."""
        project, img = self._find(ref)
        return f"projects/{project}/global/images/{img.name}"

    def list(self) -> list[ImageInfo]:
        out = []
        for p in self.api.image_projects:
            # every page, fetched inside the choke point (maxResults: the option image_page_size)
            request = {"project": p, "max_results": self.api.options.image_page_size}
            for img in self.api.call("ImagesClient", "list", idempotent=True, request=request):
                if img.deprecated and img.deprecated.state in ("DEPRECATED", "OBSOLETE", "DELETED"):
                    continue
                out.append(self._info(p, img))
        return out

    def get(self, name: str) -> ImageInfo:
        project, img = self._find(name)
        return self._info(project, img)
