"""Finds drivers: the built-ins and every plugin under the ``mcinfra`` entry-point group."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pluggy

from mcinfra.core.errors import DriverNotInstalled, InvalidRequest
from mcinfra.core.handlers import CloudDriver
from mcinfra.drivers.spec import PROJECT, DriverSpec, hookimpl

#: Built-in driver classes, as "module:Class" so nothing is imported until asked for.
BUILTIN = {
    "mock": "mcinfra.drivers.mock.driver:MockDriver",
    "aws": "mcinfra.drivers.aws.driver:AwsDriver",
    "gcp": "mcinfra.drivers.gcp.driver:GcpDriver",
    "azure": "mcinfra.drivers.azure.driver:AzureDriver",
    "twin": "mcinfra.drivers.twin.driver:TwinDriver",
}
#: Providers the project knows of but ships no driver for yet.
PLANNED = ("alibaba", "openstack", "tencent")


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
            drivers: dict[str, CloudDriver] = {}
            for group in self.pm.hook.mcinfra_drivers():
                for cls in group:
                    drivers.setdefault(cls.provider, cls())
            self._drivers = drivers
        return self._drivers

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
