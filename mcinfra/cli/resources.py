"""The calls every resource kind shares (get, list, delete, register, unregister, list-all,
delete-csp), added to a kind's sub-app by :func:`add_common`, and the catalogs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from mcinfra.cli import views
from mcinfra.cli.context import ConnOpt, JsonOpt, NameArg, SystemIdArg, cloud
from mcinfra.cli.output import done, show

ForceOpt = Annotated[bool, typer.Option("--force", help="Forget the name even if the CSP refuses the delete.")]


def manager(connection: str, attr: str) -> Any:
    return getattr(cloud(connection), attr)


def add_common(app: typer.Typer, *, attr: str, label: str, one: Callable[[Any], Any], many: Callable[[Any], Any],
               delete: bool = True) -> None:
    """Add the shared calls of one kind (``attr`` is the Connection's manager, e.g. ``vpcs``)."""

    @app.command("get")
    def get(name: NameArg, connection: ConnOpt, as_json: JsonOpt = False) -> None:
        """Show one, as the CSP reports it now."""
        show(manager(connection, attr).get(name), as_json, one)

    @app.command("list")
    def list_(connection: ConnOpt, as_json: JsonOpt = False) -> None:
        """Every one the store maps for the connection."""
        show(manager(connection, attr).list(), as_json, many)

    if delete:
        @app.command("delete")
        def delete_(name: NameArg, connection: ConnOpt, force: ForceOpt = False, as_json: JsonOpt = False) -> None:
            """Delete at the CSP and forget the name."""
            manager(connection, attr).delete(name, force=force)
            done(f"{label} {name!r} deleted", as_json, {"deleted": name})

    @app.command("register")
    def register(name: NameArg, system_id: SystemIdArg, connection: ConnOpt, as_json: JsonOpt = False) -> None:
        """Adopt an existing CSP resource under NAME (the CSP resource is not changed)."""
        show(manager(connection, attr).register(name, system_id), as_json, one)

    @app.command("unregister")
    def unregister(name: NameArg, connection: ConnOpt, as_json: JsonOpt = False) -> None:
        """Forget NAME; the CSP resource stays."""
        manager(connection, attr).unregister(name)
        done(f"{label} {name!r} unregistered (the CSP resource stays)", as_json, {"unregistered": name})

    @app.command("list-all")
    def list_all(connection: ConnOpt, as_json: JsonOpt = False) -> None:
        """What the store maps, what only the CSP has, what only the store has."""
        show(manager(connection, attr).list_all(), as_json, views.list_all)

    @app.command("delete-csp")
    def delete_csp(system_id: SystemIdArg, connection: ConnOpt, as_json: JsonOpt = False) -> None:
        """Delete a CSP resource the store does not map (see list-all)."""
        manager(connection, attr).delete_csp(system_id)
        done(f"{label} {system_id!r} deleted at the CSP", as_json, {"deleted": system_id})


# ---------------------------------------------------------------- catalogs (read-only, CSP names)
def catalog_app(attr: str, what: str, one: Callable[[Any], Any], many: Callable[[Any], Any]) -> typer.Typer:
    app = typer.Typer(help=f"The CSP's {what} (read-only).", no_args_is_help=True)

    @app.command("list")
    def list_(connection: ConnOpt, as_json: JsonOpt = False) -> None:
        """All of them."""
        show(manager(connection, attr).list(), as_json, many)

    @app.command("get")
    def get(name: Annotated[str, typer.Argument(help="The CSP's name for it.")], connection: ConnOpt,
            as_json: JsonOpt = False) -> None:
        """One, by the CSP's name."""
        show(manager(connection, attr).get(name), as_json, one)

    return app


region_zone_app = catalog_app("region_zones", "regions and zones", views.region_zone, views.region_zones)
image_app = catalog_app("images", "VM images", views.image, views.images)
spec_app = catalog_app("specs", "VM specs", views.spec, views.specs)
