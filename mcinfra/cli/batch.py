"""Batch commands: `mcinfra vm start-many`, `vm terminate-many`, `vm suspend-many|resume-many|reboot-many`
and `mcinfra batch FILE` (items on any connections). A rich progress bar on stderr; the
per-item table (or ``--json``) on stdout; exit code 13 when any item did not work."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mcinfra.cli.compute import DEFAULT_WAIT, vm_app
from mcinfra.cli.context import ConnOpt, JsonOpt, cloud, infra, want_json
from mcinfra.cli.output import console, emit_json, jsonable
from mcinfra.core.errors import InvalidRequest

if TYPE_CHECKING:
    from mcinfra.core.batch_results import BatchResult

#: some batch item did not work (failed, cancelled or rolled back)
BATCH_INCOMPLETE = 13
#: Ctrl-C stopped the batch (the shell's code for SIGINT)
INTERRUPTED = 130

FileOpt = Annotated[Path | None, typer.Option(
    "--file", "-f", help="JSON (or YAML, with PyYAML installed) file: a list of requests, or "
    "{'defaults': {...}, 'requests': [...]}.")]
ConcurrencyOpt = Annotated[int, typer.Option("--concurrency", help="Items at once (per connection).")]
ProgressOpt = Annotated[bool | None, typer.Option(
    "--progress/--no-progress", help="Progress bar on stderr (default: when stderr is a terminal).")]
RollbackOpt = Annotated[bool, typer.Option(
    "--rollback/--no-rollback", help="On a failure, start nothing more and delete what this batch made.")]


def load_file(path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidRequest(f"cannot read --file {str(path)!r}: {exc.strerror}", field="file") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ModuleNotFoundError:
            raise InvalidRequest("YAML files need PyYAML (pip install pyyaml); or give JSON", field="file") from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidRequest(f"--file is not valid YAML: {exc}", field="file") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(f"--file is not valid JSON: {exc}", field="file") from None


def requests_from(data: Any, defaults: dict[str, Any]) -> list[Any]:
    """A file's requests (a list, or {'defaults': ..., 'requests': [...]}), each over ``defaults``."""
    if isinstance(data, dict):
        unknown = set(data) - {"defaults", "requests"}
        if unknown or not isinstance(data.get("requests"), list):
            raise InvalidRequest("--file must hold a list of requests or {'defaults': {...}, 'requests': [...]}",
                                 field="file")
        if not isinstance(data.get("defaults", {}), dict):
            raise InvalidRequest("--file: 'defaults' must be a mapping", field="file")
        defaults = {**defaults, **data.get("defaults", {})}
        data = data["requests"]
    if not isinstance(data, list):
        raise InvalidRequest("--file must hold a list of requests", field="file")
    return [{**defaults, **r} if isinstance(r, dict) else ({**defaults, "name": r} if isinstance(r, str) else r)
            for r in data]


def show_result(result: BatchResult, as_json: bool) -> None:
    if want_json(as_json):
        emit_json({"summary": result.summary(), "counts": result.counts(), **jsonable(result)})
    else:
        console().print(result)
    if not result.all_ok:
        raise typer.Exit(BATCH_INCOMPLETE)


def progress_of(progress: bool | None) -> bool:
    return sys.stderr.isatty() if progress is None else progress


def run_interruptible(run: Any, as_json: bool) -> None:
    from mcinfra.core.batch_results import BatchInterrupted

    try:
        result = run()
    except BatchInterrupted as stop:  # running items finished; the rest are reported cancelled
        console(stderr=True).print(f"interrupted: {stop.result.summary()}", style="bold red")
        if want_json(as_json):
            emit_json({"summary": stop.result.summary(), "counts": stop.result.counts(), **jsonable(stop.result)})
        else:
            console().print(stop.result)
        raise typer.Exit(INTERRUPTED) from None
    show_result(result, as_json)


@vm_app.command("start-many")
def vm_start_many(
    connection: ConnOpt,
    file: FileOpt = None,
    count: Annotated[int | None, typer.Option("--count", "-n", help="Start N VMs named PREFIX-1..PREFIX-N.")] = None,
    name_prefix: Annotated[str | None, typer.Option("--name-prefix", help="With --count: the names' prefix.")] = None,
    image: Annotated[str | None, typer.Option("--image", help="Image (default for every request).")] = None,
    spec: Annotated[str | None, typer.Option("--spec", help="Spec.")] = None,
    vpc: Annotated[str | None, typer.Option("--vpc", help="VPC name.")] = None,
    subnet: Annotated[str | None, typer.Option("--subnet", help="Subnet name.")] = None,
    keypair: Annotated[str | None, typer.Option("--keypair", "-k", help="Key pair name.")] = None,
    sg: Annotated[list[str] | None, typer.Option("--sg", help="Security group name, repeatable.")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Each item returns once its VM is Running.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each item waits at most.")] = DEFAULT_WAIT,
    concurrency: ConcurrencyOpt = 16,
    rollback: RollbackOpt = False,
    progress: ProgressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start many VMs at once (--file, or --count with --name-prefix); every request is checked first."""
    defaults: dict[str, Any] = {k: val for k, val in (("image", image), ("spec", spec), ("vpc", vpc),
                                                      ("subnet", subnet), ("keypair", keypair)) if val is not None}
    if sg:
        defaults["security_groups"] = list(sg)
    defaults.update(wait=wait, timeout=timeout)
    if (file is None) == (count is None):
        raise InvalidRequest("give --file or --count (with --name-prefix), not both", field="file")
    if file is not None:
        requests = requests_from(load_file(file), defaults)
    else:
        if not name_prefix:
            raise InvalidRequest("--count needs --name-prefix", field="name_prefix")
        if count is None or count < 1:
            raise InvalidRequest("--count must be at least 1", field="count")
        requests = [{**defaults, "name": f"{name_prefix}-{i}"} for i in range(1, count + 1)]
    vms = cloud(connection).vms
    run_interruptible(lambda: vms.start_many(requests, concurrency=concurrency, rollback_on_failure=rollback,
                                             progress=progress_of(progress)), as_json)


NamesArg = Annotated[list[str] | None, typer.Argument(help="VM names (or give --file).")]


def _names(names: list[str] | None, file: Path | None) -> list[Any]:
    if bool(names) == (file is not None):
        raise InvalidRequest("give VM names or --file, not both", field="names")
    return list(names or []) if file is None else requests_from(load_file(file), {})


@vm_app.command("terminate-many")
def vm_terminate_many(
    connection: ConnOpt,
    names: NamesArg = None,
    file: FileOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Forget each VM even if the CSP refuses.")] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Each item waits until its VM is gone.")] = True,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each item waits at most.")] = DEFAULT_WAIT,
    concurrency: ConcurrencyOpt = 16,
    progress: ProgressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Terminate many VMs at once."""
    items = _names(names, file)
    vms = cloud(connection).vms
    run_interruptible(lambda: vms.terminate_many(items, force=force, wait=wait, timeout=timeout,
                                                 concurrency=concurrency, progress=progress_of(progress)), as_json)


def _control_many(op: str) -> Any:
    def command(
        connection: ConnOpt,
        names: NamesArg = None,
        file: FileOpt = None,
        wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Each item waits for the final state.")] = False,
        timeout: Annotated[float, typer.Option("--timeout", help="Seconds each item waits at most.")] = DEFAULT_WAIT,
        concurrency: ConcurrencyOpt = 16,
        progress: ProgressOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        items = _names(names, file)
        run = getattr(cloud(connection).vms, f"{op}_many")
        run_interruptible(lambda: run(items, wait=wait, timeout=timeout, concurrency=concurrency,
                                      progress=progress_of(progress)), as_json)

    command.__doc__ = f"{op.capitalize()} many VMs at once."
    return command


for _op in ("suspend", "resume", "reboot"):
    vm_app.command(f"{_op}-many")(_control_many(_op))


def batch(
    file: Annotated[Path, typer.Argument(help="JSON/YAML list of {connection, op, args} items "
                                              "(op: vpcs.create, vms.start, vms.terminate, ...).")],
    concurrency: ConcurrencyOpt = 16,
    max_workers: Annotated[int | None, typer.Option("--max-workers", help="Threads in all (default: the sum "
                                                                          "of the per-connection bounds).")] = None,
    rollback: RollbackOpt = False,
    ordered: Annotated[bool, typer.Option("--ordered/--unordered", help="Run creates VPC -> SG/key -> VM -> NLB, "
                                                                        "deletes the other way.")] = True,
    progress: ProgressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run a batch of calls on any connections (see docs/batch.md)."""
    items = load_file(file)
    inf = infra()
    run_interruptible(lambda: inf.batch(items, concurrency=concurrency, max_workers=max_workers,
                                        rollback_on_failure=rollback, ordered=ordered,
                                        progress=progress_of(progress)), as_json)
