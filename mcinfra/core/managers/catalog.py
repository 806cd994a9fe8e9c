"""Read-only catalogs (regions/zones, images, specs, prices): not stored, names are the CSP's own."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from mcinfra.core.display import ResultList
from mcinfra.core.errors import InvalidRequest
from mcinfra.core.handlers import ImageHandler, PriceHandler, RegionZoneHandler, SpecHandler
from mcinfra.core.models import ImageInfo, Kind, PriceInfo, RegionZoneInfo, SpecInfo

if TYPE_CHECKING:
    from mcinfra.core.managers.context import ManagerContext

Entry = TypeVar("Entry", covariant=True)
T = TypeVar("T")


class CatalogHandler(Protocol[Entry]):
    def list(self) -> list[Entry]: ...
    def get(self, name: str) -> Entry: ...


class CatalogManager(ABC, Generic[Entry]):
    kind: Kind

    def __init__(self, ctx: ManagerContext) -> None:
        self._ctx = ctx

    def __repr__(self) -> str:
        return f"<{type(self).__name__} connection={self._ctx.connection!r}>"

    @property
    @abstractmethod
    def handler(self) -> CatalogHandler[Entry]:
        """The driver's handler for this catalog."""

    def _read(self, call: str, name: str, fn: Callable[..., T], *args: Any) -> T:
        """A catalog read, through the connection's read cache when it caches ``<kind>.<call>``."""
        cache = self._ctx.cache
        if cache is None or cache.policy is None:
            return self._ctx.gate.run(self.kind, call, name, fn, *args)
        return cache.read(self.kind, call, args, lambda: self._ctx.gate.run(self.kind, call, name, fn, *args))

    def list(self) -> list[Entry]:
        return ResultList(self._read("list", "*", self.handler.list))

    def get(self, name: str) -> Entry:
        if not isinstance(name, str) or not name.strip():
            raise InvalidRequest(f"{self.kind.label} name must be a non-empty string", field="name")
        return self._read("get", name, self.handler.get, name.strip())


class RegionZoneManager(CatalogManager[RegionZoneInfo]):
    kind = Kind.REGION_ZONE

    @property
    def handler(self) -> RegionZoneHandler:
        return self._ctx.handlers.region_zone


class ImageManager(CatalogManager[ImageInfo]):
    kind = Kind.IMAGE

    @property
    def handler(self) -> ImageHandler:
        return self._ctx.handlers.image


class SpecManager(CatalogManager[SpecInfo]):
    kind = Kind.SPEC

    @property
    def handler(self) -> SpecHandler:
        return self._ctx.handlers.spec


class PriceManager(CatalogManager[PriceInfo]):
    """On-demand prices per spec (``get`` takes a spec name); ``Unsupported`` where the driver
    does not declare the ``price`` capability."""

    kind = Kind.PRICE

    @property
    def handler(self) -> PriceHandler:
        return self._ctx.handlers.price
