"""`mcinfra providers`, `credential`, `region`, `connection`: the configuration commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from mcinfra.cli.context import JsonOpt, infra, parse_pairs
from mcinfra.cli.output import detail, done, show, table
from mcinfra.core.errors import InvalidRequest

#: Where mock connections made through the CLI keep their cloud, so separate commands see one mock cloud.
MOCK_STATE_FILE = "mock-cloud.json"

credential_app = typer.Typer(help="Named sets of provider keys (stored encrypted; values are never printed).",
                             no_args_is_help=True)
region_app = typer.Typer(help="Named (provider, region, zone) choices.", no_args_is_help=True)
connection_app = typer.Typer(help="Named (provider, credential, region) triples plus driver options.",
                             no_args_is_help=True)

ConfigName = Annotated[str, typer.Argument(help="The name to store it under.")]
ProviderOpt = Annotated[str, typer.Option("--provider", "-p", help="Provider (see `mcinfra providers`).")]


def providers(as_json: JsonOpt = False) -> None:
    """Every known provider, installed or not."""
    show(infra().providers(), as_json, lambda ps: table(
        "Providers", ["provider", "installed", "status", "extra"],
        ((p.name, "[green]yes[/]" if p.installed else "[red]no[/]", p.status, p.extra) for p in ps)))


# ---------------------------------------------------------------- credentials
def _credentials(items: list[Any]) -> Any:
    return table("Credentials", ["name", "provider", "keys", "created"],
                 ((c.name, c.provider, c.keys, c.created_at) for c in items))


def _read_keys_file(path: Path) -> dict[str, str]:
    """A JSON object, or KEY=VALUE lines (blank lines and '#' comments skipped)."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidRequest(f"cannot read --keys-file {str(path)!r}: {exc.strerror}", field="keys-file") from None
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise InvalidRequest(f"--keys-file {str(path)!r} is not valid JSON", field="keys-file") from None
        if not isinstance(data, dict):
            raise InvalidRequest("--keys-file must hold a JSON object", field="keys-file")
        return {str(k): str(v) for k, v in data.items()}
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    return parse_pairs(lines, "keys-file")


@credential_app.command("add")
def credential_add(
    name: ConfigName,
    provider: ProviderOpt,
    key: Annotated[list[str] | None, typer.Option(
        "--key", "-k", help="KEY=VALUE, repeatable (e.g. -k aws_access_key_id=AKIA...).")] = None,
    keys_file: Annotated[Path | None, typer.Option(
        "--keys-file",
        help="Read keys from a JSON object or KEY=VALUE lines (keeps them out of shell history).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store a credential. Values are encrypted at rest and never printed."""
    keys = _read_keys_file(keys_file) if keys_file else {}
    keys.update(parse_pairs(key, "key"))
    show(infra().credentials.add(name, provider=provider, keys=keys), as_json,
         lambda c: detail(f"Credential {c.name}", c))


@credential_app.command("list")
def credential_list(as_json: JsonOpt = False) -> None:
    """Credentials with their key names (never the values)."""
    show(infra().credentials.list(), as_json, _credentials)


@credential_app.command("get")
def credential_get(name: ConfigName, as_json: JsonOpt = False) -> None:
    """One credential: provider and key names (never the values)."""
    show(infra().credentials.get(name), as_json, lambda c: detail(f"Credential {c.name}", c))


@credential_app.command("delete")
def credential_delete(name: ConfigName, as_json: JsonOpt = False) -> None:
    """Delete a credential no connection uses."""
    infra().credentials.delete(name)
    done(f"credential {name!r} deleted", as_json, {"deleted": name})


# ---------------------------------------------------------------- regions
def _regions(items: list[Any]) -> Any:
    return table("Regions", ["name", "provider", "region", "zone", "extra"],
                 ((r.name, r.provider, r.region, r.zone, r.extra) for r in items))


@region_app.command("add")
def region_add(
    name: ConfigName,
    provider: ProviderOpt,
    region: Annotated[str, typer.Option("--region", "-r", help="The CSP's region name, e.g. us-east-2.")],
    zone: Annotated[str | None, typer.Option("--zone", "-z", help="The CSP's zone name, e.g. us-east-2a.")] = None,
    extra: Annotated[list[str] | None, typer.Option(
        "--extra", help="KEY=VALUE (JSON values parsed), repeatable.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store a region choice."""
    info = infra().regions.add(name, provider=provider, region=region, zone=zone,
                               extra=parse_pairs(extra, "extra", json_values=True))
    show(info, as_json, lambda r: detail(f"Region {r.name}", r))


@region_app.command("list")
def region_list(as_json: JsonOpt = False) -> None:
    """Stored regions."""
    show(infra().regions.list(), as_json, _regions)


@region_app.command("get")
def region_get(name: ConfigName, as_json: JsonOpt = False) -> None:
    """One stored region."""
    show(infra().regions.get(name), as_json, lambda r: detail(f"Region {r.name}", r))


@region_app.command("delete")
def region_delete(name: ConfigName, as_json: JsonOpt = False) -> None:
    """Delete a region no connection uses."""
    infra().regions.delete(name)
    done(f"region {name!r} deleted", as_json, {"deleted": name})


# ---------------------------------------------------------------- connections
def _connections(items: list[Any]) -> Any:
    return table("Connections", ["name", "provider", "credential", "region", "options"],
                 ((c.name, c.provider, c.credential, c.region, c.options) for c in items))


def add_connection(name: str, *, provider: str | None, credential: str | None, region: str | None,
                   options: dict[str, Any]) -> Any:
    """Add a connection; a mock one keeps its cloud in ``$MCINFRA_HOME/mock-cloud.json`` unless
    ``state_path`` is given (``state_path=null`` keeps it in the process's memory)."""
    inf = infra()
    resolved = provider
    if resolved is None and credential is not None:
        resolved = inf.credentials.get(credential).provider
    if resolved is None and region is not None:
        resolved = inf.regions.get(region).provider
    if resolved == "mock" and "state_path" not in options:
        options = {**options, "state_path": str(inf.store.home / MOCK_STATE_FILE)}
    return inf.connections.add(name, provider=provider, credential=credential, region=region, options=options)


@connection_app.command("add")
def connection_add(
    name: ConfigName,
    provider: Annotated[str | None, typer.Option(
        "--provider", "-p", help="Provider (implied by --credential/--region).")] = None,
    credential: Annotated[str | None, typer.Option("--credential", help="Stored credential name.")] = None,
    region: Annotated[str | None, typer.Option("--region", "-r", help="Stored region name.")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="Driver option KEY=VALUE, repeatable; VALUE parsed as JSON when it can be "
        "(-o latency=0.1 -o 'latency=[0.05,0.2]' -o endpoint_url=http://127.0.0.1:5000).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Store a connection. Mock connections share $MCINFRA_HOME/mock-cloud.json unless -o state_path=... is given."""
    info = add_connection(name, provider=provider, credential=credential, region=region,
                          options=parse_pairs(option, "option", json_values=True))
    show(info, as_json, lambda c: detail(f"Connection {c.name}", c))


@connection_app.command("list")
def connection_list(as_json: JsonOpt = False) -> None:
    """Stored connections."""
    show(infra().connections.list(), as_json, _connections)


@connection_app.command("get")
def connection_get(name: ConfigName, as_json: JsonOpt = False) -> None:
    """One stored connection."""
    show(infra().connections.get(name), as_json, lambda c: detail(f"Connection {c.name}", c))


@connection_app.command("delete")
def connection_delete(name: ConfigName, as_json: JsonOpt = False) -> None:
    """Delete a connection that maps no resources (see `mcinfra destroy`)."""
    infra().connections.delete(name)
    done(f"connection {name!r} deleted", as_json, {"deleted": name})
