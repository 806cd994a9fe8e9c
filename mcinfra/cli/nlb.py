"""`mcinfra nlb ...`.

Formats: listener and VM group ``[PROTOCOL:]PORT`` (``TCP:80``, ``udp:53``, ``80``); health checker
``PROTOCOL[:PORT[:INTERVAL[:TIMEOUT[:THRESHOLD]]]]`` where an empty or ``-1`` field takes the default
(port: the VM group's; TCP 10/10/3, HTTP 10/6/3), e.g. ``TCP``, ``HTTP:8080``, ``TCP:80:5:5:2``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mcinfra.cli import views
from mcinfra.cli.context import ConnOpt, JsonOpt, NameArg, build
from mcinfra.cli.output import show, table
from mcinfra.cli.resources import add_common, manager
from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import HealthChecker, Listener, VMGroup

nlb_app = typer.Typer(help="Network load balancers. Listener/VM group: [PROTOCOL:]PORT; health checker: "
                      "PROTOCOL[:PORT[:INTERVAL[:TIMEOUT[:THRESHOLD]]]].", no_args_is_help=True)


def _proto_port(text: str, what: str) -> dict[str, Any]:
    proto, sep, port = text.strip().rpartition(":")
    try:
        number = int(port)
    except ValueError:
        raise InvalidRequest(f"{what} {text!r}: expected [PROTOCOL:]PORT, e.g. TCP:80", field=what) from None
    return {"protocol": proto, "port": number} if sep else {"port": number}


def parse_listener(text: str) -> Listener:
    return build(Listener, f"listener {text!r}", "listener", **_proto_port(text, "listener"))


def parse_vm_group(text: str, vms: list[str] | None = None) -> VMGroup:
    return build(VMGroup, f"VM group {text!r}", "vm_group", **_proto_port(text, "vm_group"), vms=list(vms or []))


def parse_health_checker(text: str) -> HealthChecker:
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 5 or not parts[0]:
        raise InvalidRequest(f"health checker {text!r}: expected PROTOCOL[:PORT[:INTERVAL[:TIMEOUT[:THRESHOLD]]]]",
                             field="health_checker")
    fields: dict[str, Any] = {"protocol": parts[0]}
    for key, value in zip(("port", "interval", "timeout", "threshold"), parts[1:], strict=False):
        try:
            fields[key] = int(value) if value.strip() else -1
        except ValueError:
            raise InvalidRequest(f"health checker {text!r}: {key} must be an integer", field="health_checker") from None
    return build(HealthChecker, f"health checker {text!r}", "health_checker", **fields)


VmOpt = Annotated[list[str] | None, typer.Option("--vm", help="VM name, repeatable.")]


@nlb_app.command("create")
def nlb_create(
    name: NameArg,
    connection: ConnOpt,
    vpc: Annotated[str, typer.Option("--vpc", help="The VPC of the NLB and its VMs.")],
    listener: Annotated[str, typer.Option("--listener", "-l", help="[PROTOCOL:]PORT, e.g. TCP:80.")],
    vm_group: Annotated[str | None, typer.Option(
        "--vm-group", "-g", help="[PROTOCOL:]PORT of the VMs (default: the listener's).")] = None,
    vm: VmOpt = None,
    health_checker: Annotated[str | None, typer.Option(
        "--health-checker", help="PROTOCOL[:PORT[:INTERVAL[:TIMEOUT[:THRESHOLD]]]] (default TCP, defaults).")] = None,
    type_: Annotated[str, typer.Option("--type", help="PUBLIC or INTERNAL.")] = "PUBLIC",
    scope: Annotated[str, typer.Option("--scope", help="REGION or GLOBAL.")] = "REGION",
    as_json: JsonOpt = False,
) -> None:
    """Create an NLB in front of VMs."""
    lst = parse_listener(listener)
    group = parse_vm_group(vm_group, vm) if vm_group else VMGroup(protocol=lst.protocol, port=lst.port,
                                                                   vms=list(vm or []))
    hc = parse_health_checker(health_checker) if health_checker else None
    info = manager(connection, "nlbs").create(name, vpc=vpc, listener=lst, vm_group=group, health_checker=hc,
                                              type=type_.upper(), scope=scope.upper())  # type: ignore[arg-type]
    show(info, as_json, views.nlb)


def _group_view(group: VMGroup) -> Any:
    return table("VM group", ["protocol", "port", "vms"], [(group.protocol, group.port, group.vms)])


@nlb_app.command("add-vms")
def nlb_add_vms(name: NameArg, connection: ConnOpt, vm: VmOpt = None, as_json: JsonOpt = False) -> None:
    """Add VMs to the NLB's VM group."""
    show(manager(connection, "nlbs").add_vms(name, list(vm or [])), as_json, _group_view)


@nlb_app.command("remove-vms")
def nlb_remove_vms(name: NameArg, connection: ConnOpt, vm: VmOpt = None, as_json: JsonOpt = False) -> None:
    """Remove VMs from the NLB's VM group."""
    show(manager(connection, "nlbs").remove_vms(name, list(vm or [])), as_json, _group_view)


@nlb_app.command("health")
def nlb_health(name: NameArg, connection: ConnOpt, as_json: JsonOpt = False) -> None:
    """Which VMs of the group are healthy."""
    show(manager(connection, "nlbs").health(name), as_json, views.health)


@nlb_app.command("change-listener")
def nlb_change_listener(name: NameArg, listener: Annotated[str, typer.Argument(help="[PROTOCOL:]PORT")],
                        connection: ConnOpt, as_json: JsonOpt = False) -> None:
    """Change the listener's protocol and port."""
    lst = manager(connection, "nlbs").change_listener(name, parse_listener(listener))
    show(lst, as_json, lambda x: table("Listener", ["protocol", "port", "ip", "dns name"],
                                       [(x.protocol, x.port, x.ip, x.dns_name)]))


@nlb_app.command("change-vm-group")
def nlb_change_vm_group(name: NameArg, vm_group: Annotated[str, typer.Argument(help="[PROTOCOL:]PORT")],
                        connection: ConnOpt, as_json: JsonOpt = False) -> None:
    """Change the VM group's protocol and port (members: add-vms/remove-vms)."""
    show(manager(connection, "nlbs").change_vm_group(name, parse_vm_group(vm_group)), as_json, _group_view)


@nlb_app.command("change-health-checker")
def nlb_change_health_checker(
    name: NameArg,
    health_checker: Annotated[str, typer.Argument(help="PROTOCOL[:PORT[:INTERVAL[:TIMEOUT[:THRESHOLD]]]]")],
    connection: ConnOpt, as_json: JsonOpt = False,
) -> None:
    """Change the health check (empty or -1 fields take the defaults)."""
    hc = manager(connection, "nlbs").change_health_checker(name, parse_health_checker(health_checker))
    show(hc, as_json, lambda h: table("Health checker", ["protocol", "port", "interval", "timeout", "threshold"],
                                      [(h.protocol, h.port, h.interval, h.timeout, h.threshold)]))


add_common(nlb_app, attr="nlbs", label="NLB", one=views.nlb, many=views.nlbs)
