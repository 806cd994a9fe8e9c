"""`mcinfra keypair ...` and `mcinfra vm ...`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from mcinfra.cli import views
from mcinfra.cli.context import ConnOpt, JsonOpt, NameArg, want_json
from mcinfra.cli.output import console, emit_json, jsonable, show
from mcinfra.cli.resources import ForceOpt, add_common, manager
from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import VMStatus

keypair_app = typer.Typer(help="SSH key pairs (the private key is shown once, by create, and never stored).",
                          no_args_is_help=True)
#: the VM manager's own default (mcinfra.core.managers.vm.DEFAULT_WAIT), not imported: it pulls in the store
DEFAULT_WAIT = 600.0

vm_app = typer.Typer(help="VMs.", no_args_is_help=True)


# ---------------------------------------------------------------- key pair
def _check_out(path: Path) -> None:
    """Checked before the key is made, so a bad --out never loses a fresh private key."""
    if path.exists():
        raise InvalidRequest(f"--out {str(path)!r} already exists; not overwriting a key file", field="out")
    if not path.parent.is_dir():
        raise InvalidRequest(f"--out {str(path)!r}: directory {str(path.parent)!r} does not exist", field="out")


def _write_private(path: Path, pem: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(pem if pem.endswith("\n") else pem + "\n")


@keypair_app.command("create")
def keypair_create(
    name: NameArg,
    connection: ConnOpt,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write the private key to this new file (mode 0600) instead of printing it.")] = None,
    public_key_file: Annotated[Path | None, typer.Option(
        "--public-key-file", help="Import this OpenSSH public key instead of generating a key pair.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key pair. The private key is printed once (or written to --out) and never stored."""
    public_key = None
    if public_key_file is not None:
        try:
            public_key = public_key_file.read_text().strip()
        except OSError as exc:
            raise InvalidRequest(f"cannot read --public-key-file: {exc.strerror}", field="public_key_file") from None
    if out is not None:
        _check_out(out)
    info = manager(connection, "keypairs").create(name, public_key=public_key)
    pem = info.private_key
    if out is not None and pem:
        _write_private(out, pem)
    if want_json(as_json):
        data = jsonable(info)
        if out is not None:
            data["private_key"] = None
            data["private_key_file"] = str(out) if pem else None
        emit_json(data)
        return
    con = console()
    con.print(views.keypair(info))
    if pem and out is not None:
        con.print(Text(f"private key written to {out} (mode 0600)", style="green"))
    elif pem:
        con.print(Text("private key (shown only now; save it):", style="bold yellow"))
        typer.echo(pem.rstrip("\n"))


add_common(keypair_app, attr="keypairs", label="key pair", one=views.keypair, many=views.keypairs)


# ---------------------------------------------------------------- VM
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds to wait at most.")]
WaitOpt = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the VM reaches the final state.")]


def _status_out(name: str, status: VMStatus, as_json: bool) -> None:
    show({"name": name, "status": status}, as_json,
         lambda d: Text(f"{d['name']}: {d['status'].value}", style="bold"))


@vm_app.command("start")
def vm_start(
    name: NameArg,
    connection: ConnOpt,
    image: Annotated[str, typer.Option("--image", help="Image name (see `mcinfra image list`).")],
    spec: Annotated[str, typer.Option("--spec", help="Spec name (see `mcinfra spec list`).")],
    vpc: Annotated[str, typer.Option("--vpc", help="VPC name.")],
    subnet: Annotated[str, typer.Option("--subnet", help="Subnet name in the VPC.")],
    keypair: Annotated[str, typer.Option("--keypair", "-k", help="Key pair name.")],
    sg: Annotated[list[str] | None, typer.Option("--sg", help="Security group name, repeatable.")] = None,
    root_disk_type: Annotated[str | None, typer.Option("--root-disk-type")] = None,
    root_disk_size: Annotated[int | None, typer.Option("--root-disk-size", help="GB.")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Return once the VM is Running.")] = True,
    timeout: TimeoutOpt = DEFAULT_WAIT,
    as_json: JsonOpt = False,
) -> None:
    """Start a VM."""
    info = manager(connection, "vms").start(
        name, image=image, spec=spec, vpc=vpc, subnet=subnet, security_groups=list(sg or []), keypair=keypair,
        root_disk_type=root_disk_type, root_disk_size=root_disk_size, wait=wait, timeout=timeout)
    show(info, as_json, views.vm)


@vm_app.command("status")
def vm_status(name: NameArg, connection: ConnOpt, as_json: JsonOpt = False) -> None:
    """The VM's status now."""
    _status_out(name, manager(connection, "vms").status(name), as_json)


@vm_app.command("statuses")
def vm_statuses(connection: ConnOpt, as_json: JsonOpt = False) -> None:
    """The status of every VM the store maps."""
    show(manager(connection, "vms").statuses(), as_json, views.statuses)


def _control(op: str, name: str, connection: str, wait: bool, timeout: float, as_json: bool) -> None:
    status = getattr(manager(connection, "vms"), op)(name, wait=wait, timeout=timeout)
    _status_out(name, status, as_json)


@vm_app.command("suspend")
def vm_suspend(name: NameArg, connection: ConnOpt, wait: WaitOpt = False, timeout: TimeoutOpt = DEFAULT_WAIT,
               as_json: JsonOpt = False) -> None:
    """Suspend a Running VM."""
    _control("suspend", name, connection, wait, timeout, as_json)


@vm_app.command("resume")
def vm_resume(name: NameArg, connection: ConnOpt, wait: WaitOpt = False, timeout: TimeoutOpt = DEFAULT_WAIT,
              as_json: JsonOpt = False) -> None:
    """Resume a Suspended VM."""
    _control("resume", name, connection, wait, timeout, as_json)


@vm_app.command("reboot")
def vm_reboot(name: NameArg, connection: ConnOpt, wait: WaitOpt = False, timeout: TimeoutOpt = DEFAULT_WAIT,
              as_json: JsonOpt = False) -> None:
    """Reboot a Running VM."""
    _control("reboot", name, connection, wait, timeout, as_json)


@vm_app.command("wait")
def vm_wait(name: NameArg, status: Annotated[str, typer.Argument(help="e.g. Running, Suspended.")],
            connection: ConnOpt, timeout: TimeoutOpt = DEFAULT_WAIT, as_json: JsonOpt = False) -> None:
    """Wait until the VM reaches STATUS (or Failed, or the timeout); prints the last status seen."""
    _status_out(name, manager(connection, "vms").wait(name, status, timeout=timeout), as_json)


@vm_app.command("terminate")
def vm_terminate(name: NameArg, connection: ConnOpt, force: ForceOpt = False,
                 wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until it is gone.")] = True,
                 timeout: TimeoutOpt = DEFAULT_WAIT, as_json: JsonOpt = False) -> None:
    """Terminate the VM and forget its name."""
    _status_out(name, manager(connection, "vms").terminate(name, force=force, wait=wait, timeout=timeout), as_json)


add_common(vm_app, attr="vms", label="VM", one=views.vm, many=views.vms, delete=False)
