"""The pluggy hook spec drivers implement.

A third-party package exposes a module with a ``@hookimpl``-decorated ``mcinfra_drivers``
function under the entry-point group ``mcinfra``::

    [project.entry-points.mcinfra]
    mycloud = "mycloud_mcinfra.plugin"
"""

from __future__ import annotations

import pluggy

from mcinfra.core.handlers import CloudDriver

PROJECT = "mcinfra"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class DriverSpec:
    @hookspec
    def mcinfra_drivers(self) -> list[type[CloudDriver]]:  # type: ignore[empty-body]
        """Return the driver classes this plugin provides."""
