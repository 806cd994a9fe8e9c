"""The ``mcinfra`` command: ``app`` is the console script's entry point.

Every mcinfra error ends the command with a one-line red message on stderr and an exit code
per error type (:data:`mcinfra.cli.context.EXIT_CODES`), never a traceback.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from mcinfra import __version__
from mcinfra.cli import batch, catalog, compute, config, demo, network, nlb, ops, resources
from mcinfra.cli.context import State, begin, end, exit_code
from mcinfra.cli.output import error
from mcinfra.core.errors import McInfraError


class McInfraGroup(TyperGroup):
    """The root group: turns mcinfra errors from any sub-command into a message and an exit code."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except McInfraError as exc:
            error(str(exc))
            raise typer.Exit(exit_code(exc)) from None


app = typer.Typer(
    name="mcinfra",
    cls=McInfraGroup,
    help="One CLI over many clouds' infrastructure (VPC, security group, key pair, VM, NLB).",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,  # locals may hold credentials
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mcinfra {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(
        "--db", envvar="MCINFRA_DB", show_envvar=True,
        help="Store URL (any SQLAlchemy URL). Default: the embedded SQLite store $MCINFRA_HOME/mcinfra.db.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every result as JSON.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """mcinfra: one CLI over many clouds' infrastructure."""
    st = begin(State(db=db, json=as_json))
    ctx.obj = st
    ctx.call_on_close(lambda: end(st))


app.command("providers")(config.providers)
app.add_typer(config.credential_app, name="credential")
app.add_typer(config.region_app, name="region")
app.add_typer(config.connection_app, name="connection")
app.add_typer(network.vpc_app, name="vpc")
app.add_typer(network.sg_app, name="sg")
app.add_typer(compute.keypair_app, name="keypair")
app.add_typer(compute.vm_app, name="vm")
app.add_typer(nlb.nlb_app, name="nlb")
app.add_typer(resources.region_zone_app, name="region-zone")
app.add_typer(resources.image_app, name="image")
app.add_typer(resources.spec_app, name="spec")
app.add_typer(catalog.catalog_app, name="catalog")
app.command("destroy")(ops.destroy)
app.command("reconcile")(ops.reconcile)
app.add_typer(ops.lock_app, name="lock")
app.command("history")(ops.history)
app.command("demo")(demo.demo)
app.command("batch")(batch.batch)


def mount_optional(parent: typer.Typer, module: str, name: str) -> bool:
    """Mount ``module.app`` as ``name`` when the module is part of this build; skip it when absent
    (but never hide a missing dependency *inside* that module). True when mounted."""
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return False
        raise
    parent.add_typer(mod.app, name=name)
    return True


mount_optional(app, "mcinfra.cli.twin", "twin")
mount_optional(app, "mcinfra.cli.cladnet", "cladnet")


if __name__ == "__main__":
    app()
