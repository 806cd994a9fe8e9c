"""`mcinfra vpc ...` and `mcinfra sg ...`.

Security rules are written ``DIRECTION:PROTOCOL[:FROM[:TO[:CIDR]]]``:

- DIRECTION ``inbound`` | ``outbound``; PROTOCOL ``tcp`` | ``udp`` | ``icmp`` | ``all``;
- FROM/TO ports 1..65535 for tcp/udp (TO defaults to FROM); for icmp/all leave them empty or ``-1``;
- CIDR IPv4 or IPv6 (may contain ':'), default ``0.0.0.0/0``.

e.g. ``inbound:tcp:22``, ``inbound:tcp:8000:8100:10.0.0.0/8``, ``inbound:icmp:::192.168.0.0/16``,
``outbound:all``, ``inbound:tcp:443:443:::/0``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mcinfra.cli import views
from mcinfra.cli.context import ConnOpt, JsonOpt, NameArg, build
from mcinfra.cli.output import done, show
from mcinfra.cli.resources import add_common, manager
from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import SecurityRule, SubnetReq

RULE_FORMAT = "DIRECTION:PROTOCOL[:FROM[:TO[:CIDR]]]"

vpc_app = typer.Typer(help="VPCs and their subnets.", no_args_is_help=True)
sg_app = typer.Typer(help=f"Security groups. Rules: {RULE_FORMAT}, e.g. inbound:tcp:22 or outbound:all.",
                     no_args_is_help=True)


def parse_subnet(text: str) -> SubnetReq:
    """``NAME=CIDR[@ZONE]`` -> SubnetReq."""
    name, sep, rest = text.partition("=")
    if not sep:
        raise InvalidRequest(f"--subnet {text!r}: expected NAME=CIDR[@ZONE]", field="subnet")
    cidr, _, zone = rest.partition("@")
    return build(SubnetReq, f"--subnet {text!r}", "subnet", name=name.strip(), cidr=cidr.strip(),
                 zone=zone.strip() or None)


def parse_rule(text: str) -> SecurityRule:
    """A rule string (see the module docstring) -> SecurityRule, or InvalidRequest naming it."""
    parts = text.strip().split(":", 4)
    if len(parts) < 2:
        raise InvalidRequest(f"rule {text!r}: expected {RULE_FORMAT}", field="rule")
    direction, protocol = parts[0], parts[1].upper()
    from_s = parts[2].strip() if len(parts) > 2 else ""
    to_s = parts[3].strip() if len(parts) > 3 else ""
    cidr = parts[4].strip() if len(parts) > 4 else ""
    try:
        from_port = int(from_s) if from_s else -1
        to_port = int(to_s) if to_s else from_port
    except ValueError:
        raise InvalidRequest(f"rule {text!r}: ports must be integers", field="rule") from None
    return build(SecurityRule, f"rule {text!r}", "rule", direction=direction, protocol=protocol, from_port=from_port,
                   to_port=to_port, cidr=cidr or "0.0.0.0/0")


def parse_rules(items: list[str] | None, *, required: bool) -> list[SecurityRule]:
    rules = [parse_rule(r) for r in items or []]
    if required and not rules:
        raise InvalidRequest("give at least one --rule", field="rule")
    return rules


SubnetOpt = Annotated[list[str] | None, typer.Option(
    "--subnet", "-s", help="NAME=CIDR[@ZONE], repeatable (e.g. -s sn-01=10.0.1.0/24).")]
RuleOpt = Annotated[list[str] | None, typer.Option("--rule", "-r", help=f"{RULE_FORMAT}, repeatable.")]


# ---------------------------------------------------------------- VPC
@vpc_app.command("create")
def vpc_create(
    name: NameArg,
    connection: ConnOpt,
    cidr: Annotated[str, typer.Option("--cidr", help="The VPC's IPv4 CIDR, e.g. 10.0.0.0/16.")],
    subnet: SubnetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a VPC with its subnets."""
    subnets = [parse_subnet(s) for s in subnet or []]
    show(manager(connection, "vpcs").create(name, cidr=cidr, subnets=subnets), as_json, views.vpc)


@vpc_app.command("add-subnet")
def vpc_add_subnet(
    vpc: Annotated[str, typer.Argument(help="The VPC's name.")],
    subnet: Annotated[str, typer.Argument(help="The new subnet's name.")],
    connection: ConnOpt,
    cidr: Annotated[str, typer.Option("--cidr", help="The subnet's CIDR, inside the VPC's.")],
    zone: Annotated[str | None, typer.Option("--zone", "-z", help="Zone (default: the connection's).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a subnet to a VPC."""
    req = build(SubnetReq, f"subnet {subnet!r}", "subnet", name=subnet, cidr=cidr, zone=zone)
    show(manager(connection, "vpcs").add_subnet(vpc, req), as_json, views.vpc)


@vpc_app.command("remove-subnet")
def vpc_remove_subnet(
    vpc: Annotated[str, typer.Argument(help="The VPC's name.")],
    subnet: Annotated[str, typer.Argument(help="The subnet's name.")],
    connection: ConnOpt,
    as_json: JsonOpt = False,
) -> None:
    """Remove a subnet no VM uses."""
    manager(connection, "vpcs").remove_subnet(vpc, subnet)
    done(f"subnet {subnet!r} removed from VPC {vpc!r}", as_json, {"vpc": vpc, "removed": subnet})


add_common(vpc_app, attr="vpcs", label="VPC", one=views.vpc, many=views.vpcs)


# ---------------------------------------------------------------- security group
@sg_app.command("create")
def sg_create(
    name: NameArg,
    connection: ConnOpt,
    vpc: Annotated[str, typer.Option("--vpc", help="The VPC it belongs to.")],
    rule: RuleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a security group: all outbound allowed (removable), no inbound, plus the rules given."""
    rules = parse_rules(rule, required=False)
    show(manager(connection, "security_groups").create(name, vpc=vpc, rules=rules), as_json, views.sg)


def _change_rules(op: str, name: str, connection: str, rule: list[str] | None, as_json: bool) -> None:
    rules: Any = parse_rules(rule, required=True)
    show(getattr(manager(connection, "security_groups"), op)(name, rules), as_json, views.sg)


@sg_app.command("add-rules")
def sg_add_rules(name: NameArg, connection: ConnOpt, rule: RuleOpt = None, as_json: JsonOpt = False) -> None:
    """Add rules (fails without change if any is already there)."""
    _change_rules("add_rules", name, connection, rule, as_json)


@sg_app.command("remove-rules")
def sg_remove_rules(name: NameArg, connection: ConnOpt, rule: RuleOpt = None, as_json: JsonOpt = False) -> None:
    """Remove rules (fails without change if any is not there)."""
    _change_rules("remove_rules", name, connection, rule, as_json)


add_common(sg_app, attr="security_groups", label="security group", one=views.sg, many=views.sgs)
