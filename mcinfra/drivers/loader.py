"""Finds drivers: the built-ins and every plugin under the ``mcinfra`` entry-point group."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pluggy

from mcinfra.core.errors import DriverConflict, DriverNotInstalled, InvalidRequest
from mcinfra.core.handlers import CloudDriver
from mcinfra.drivers.spec import PROJECT, DriverSpec, hookimpl

#: Built-in driver classes, as "module:Class" so nothing is imported until asked for.
BUILTIN = {
    "mock": "mcinfra.drivers.mock.driver:MockDriver",
    "aws": "mcinfra.drivers.aws.driver:AwsDriver",
    "gcp": "mcinfra.drivers.gcp.driver:GcpDriver",
    "azure": "mcinfra.drivers.azure.driver:AzureDriver",
    "twin": "mcinfra.drivers.twin.driver:TwinDriver",
    "openstack": "mcinfra.drivers.openstack.driver:OpenStackDriver",
    "tencent": "mcinfra.drivers.tencent.driver:TencentDriver",
    "alibaba": "mcinfra.drivers.alibaba.driver:AlibabaDriver",
}
#: Providers the project knows of but ships no driver for yet.
PLANNED: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderInfo:
    name: str
    installed: bool
    status: str
    extra: str = ""

    def __str__(self) -> str:
        return self.name


def _import_builtin(path: str) -> type[CloudDriver] | None:
    module, _, cls = path.partition(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("mcinfra.drivers."):
            return None  # that built-in driver is not part of this build
        raise


class _Builtins:
    @hookimpl
    def mcinfra_drivers(self) -> list[type[CloudDriver]]:
        found = (_import_builtin(p) for p in BUILTIN.values())
        return [d for d in found if d is not None]


class DriverRegistry:
    def __init__(self, *, entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(DriverSpec)
        self.pm.register(_Builtins(), name="builtins")
        if entry_points:
            self.pm.load_setuptools_entrypoints(PROJECT)
        self._drivers: dict[str, CloudDriver] | None = None

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object (a module or instance with ``mcinfra_drivers``)."""
        self.pm.register(plugin, name=name)
        self._drivers = None

    @property
    def drivers(self) -> dict[str, CloudDriver]:
        if self._drivers is None:
            self._drivers = {p: cls() for p, cls in self._resolve().items()}
        return self._drivers

    def _resolve(self) -> dict[str, type[CloudDriver]]:
        """provider -> driver class. Two plugins naming one provider is an error unless exactly one
        of them sets ``overrides = True`` (a deliberate replacement, e.g. a patched built-in)."""
        claims: dict[str, list[tuple[str, type[CloudDriver]]]] = {}
        for impl in self.pm.hook.mcinfra_drivers.get_hookimpls():
            for cls in impl.function() or ():
                claims.setdefault(cls.provider, []).append((impl.plugin_name, cls))
        resolved: dict[str, type[CloudDriver]] = {}
        for provider, found in claims.items():
            if len(found) == 1:
                resolved[provider] = found[0][1]
                continue
            overriding = [(plugin, cls) for plugin, cls in found if cls.overrides]
            if len(overriding) != 1:
                names = ", ".join(f"{cls.__module__}.{cls.__qualname__} (plugin {plugin!r})" for plugin, cls in found)
                raise DriverConflict(
                    f"provider {provider!r} is claimed by {names}; set overrides = True on the one "
                    "driver class that should replace the others"
                )
            resolved[provider] = overriding[0][1]
        return resolved

    def get(self, provider: str) -> CloudDriver:
        driver = self.drivers.get(provider)
        if driver is None:
            if provider in PLANNED:
                raise DriverNotInstalled(provider, detail="this mcinfra release has no driver for it yet")
            raise InvalidRequest(
                f"unknown provider {provider!r}; known: {', '.join(sorted(self.providers_names()))}",
                field="provider",
            )
        missing = driver.check_installed()
        if missing:
            raise DriverNotInstalled(provider, driver.extra, missing)
        return driver

    def providers_names(self) -> set[str]:
        return set(self.drivers) | set(PLANNED)

    def providers(self) -> list[ProviderInfo]:
        out = []
        for name in sorted(self.providers_names()):
            driver = self.drivers.get(name)
            if driver is None:
                out.append(ProviderInfo(name, False, "no driver in this release", name))
                continue
            missing = driver.check_installed()
            status = "installed" if not missing else f"not installed: {missing}"
            out.append(ProviderInfo(name, missing is None, status, driver.extra))
        return out
