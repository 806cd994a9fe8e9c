"""Read-only catalogs (regions/zones, images, specs): not stored, names are the CSP's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import ImageInfo, RegionZoneInfo, SpecInfo

if TYPE_CHECKING:
    from mcinfra.core.connection import Connection

C = TypeVar("C")


class CatalogManager(Generic[C]):
    kind = ""

    def __init__(self, conn: Connection) -> None:
        self._c = conn

    def __repr__(self) -> str:
        return f"<{type(self).__name__} connection={self._c.name!r}>"

    @property
    def _handler(self) -> Any:
        return self._c.handler(self.kind)

    def list(self) -> list[C]:
        return self._c.gate(self.kind, "list", "*", self._handler.list)

    def get(self, name: str) -> C:
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest(f"{self.kind} name must be a non-empty string", field="name")
        return self._c.gate(self.kind, "get", name, self._handler.get, name.strip())


class RegionZoneManager(CatalogManager[RegionZoneInfo]):
    kind = "region_zone"


class ImageManager(CatalogManager[ImageInfo]):
    kind = "image"


class SpecManager(CatalogManager[SpecInfo]):
    kind = "spec"
