"""`mcinfra demo`: VPC -> SG -> key -> VMs -> NLB on a fresh mock connection, shown and cleaned up."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from mcinfra.cli import views
from mcinfra.cli.config import add_connection
from mcinfra.cli.context import infra
from mcinfra.cli.ops import destroy_view
from mcinfra.cli.output import console
from mcinfra.core.models import Listener, SecurityRule, SubnetReq, VMGroup

if TYPE_CHECKING:
    from mcinfra.core.connection import Connection

T = TypeVar("T")

IMAGE, SPEC = "ubuntu-22.04", "t2.micro"


class Steps:
    """One progress bar over the demo's steps, with a line per finished step (readable in CI logs too)."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.progress = progress
        self.task: TaskID = progress.add_task("starting", total=total)

    def run(self, label: str, fn: Callable[[], T]) -> T:
        self.progress.update(self.task, description=label)
        result = fn()
        self.finish(label)
        return result

    def finish(self, label: str) -> None:
        self.progress.advance(self.task)
        self.progress.console.print(Text.assemble(("  ✓ ", "green"), label))


def _progress(con: Console) -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=con)


def _build(cloud: Connection, steps: Steps, n_vms: int) -> dict[str, Any]:
    vpc = steps.run("VPC demo-vpc 10.0.0.0/16 with subnet demo-sn 10.0.1.0/24", lambda: cloud.vpcs.create(
        "demo-vpc", cidr="10.0.0.0/16", subnets=[SubnetReq(name="demo-sn", cidr="10.0.1.0/24")]))
    sg = steps.run("security group demo-sg: inbound TCP 22 and 80", lambda: cloud.security_groups.create(
        "demo-sg", vpc="demo-vpc", rules=[
            SecurityRule(direction="inbound", protocol="TCP", from_port=22, to_port=22),
            SecurityRule(direction="inbound", protocol="TCP", from_port=80, to_port=80)]))
    # the private key is not needed by the demo: it is dropped, never printed
    key = steps.run("key pair demo-key", lambda: cloud.keypairs.create("demo-key").model_copy(
        update={"private_key": None}))
    names = [f"demo-vm-{i}" for i in range(1, n_vms + 1)]
    # started together: SP-Lock lets creates of distinct names run side by side
    with ThreadPoolExecutor(max_workers=n_vms, thread_name_prefix="demo-vm") as pool:
        futures = {pool.submit(cloud.vms.start, n, image=IMAGE, spec=SPEC, vpc="demo-vpc", subnet="demo-sn",
                               security_groups=["demo-sg"], keypair="demo-key"): n for n in names}
        for f in as_completed(futures):
            vm = f.result()
            steps.finish(f"VM {vm.iid.name_id} {vm.status.value} at {vm.public_ip} ({SPEC}, {IMAGE})")
    nlb = steps.run(f"NLB demo-nlb TCP:80 -> {', '.join(names)}", lambda: cloud.nlbs.create(
        "demo-nlb", vpc="demo-vpc", listener=Listener(protocol="TCP", port=80),
        vm_group=VMGroup(protocol="TCP", port=80, vms=names)))
    return {"vpc": vpc, "sg": sg, "key": key, "vms": cloud.vms.list(), "nlb": nlb, "names": names}


def _show(con: Console, cloud: Connection, built: dict[str, Any]) -> None:
    con.print(views.vpcs([built["vpc"]]))
    con.print(views.sgs([built["sg"]]))
    con.print(views.keypairs([built["key"]]))
    con.print(views.vms(sorted(built["vms"], key=lambda v: v.iid.name_id)))
    con.print(views.nlbs([built["nlb"]]))
    con.print(views.health(cloud.nlbs.health("demo-nlb")))
    victim = built["names"][-1]
    with con.status(f"suspending {victim}..."):
        status = cloud.vms.suspend(victim, wait=True)
    con.print(f"{victim} is [bold]{status.value}[/]; the NLB sees:")
    con.print(views.health(cloud.nlbs.health("demo-nlb")))
    with con.status(f"resuming {victim}..."):
        status = cloud.vms.resume(victim, wait=True)
    con.print(f"{victim} is [bold]{status.value}[/] again; the NLB sees:")
    con.print(views.health(cloud.nlbs.health("demo-nlb")))


def demo(
    latency: Annotated[float, typer.Option("--latency", help="Mock CSP latency per call, seconds.", min=0)] = 0.05,
    vms: Annotated[int, typer.Option("--vms", help="How many VMs behind the NLB.", min=1, max=20)] = 3,
) -> None:
    """Build VPC -> SG -> key -> VMs -> NLB on a fresh mock connection, show them, clean up."""
    con = console()
    inf = infra()
    name = f"demo-{secrets.token_hex(4)}"
    con.rule("[bold]mcinfra demo")
    conn_cfg = add_connection(name, provider="mock", credential=None, region=None, options={"latency": latency})
    con.print(f"store: {inf.store!r}\nmock cloud: {conn_cfg.options.get('state_path') or 'in memory'}\n"
              f"connection: [bold]{name}[/] (mock, latency {latency}s)")
    cloud = inf.connect(name)
    failed = False
    try:
        with _progress(con) as progress:
            built = _build(cloud, Steps(progress, total=4 + vms), vms)
        _show(con, cloud, built)
    except BaseException:
        failed = True
        raise
    finally:
        con.rule("cleaning up")
        with con.status("destroy_all..."):
            report = cloud.destroy_all(pause=0.2)
        con.print(destroy_view(report))
        if report.all_destroyed:
            inf.connections.delete(name)
            con.print(Text(f"connection {name} removed; nothing left behind", style="green"))
        else:
            con.print(Text(f"connection {name} kept: resources are left (see `mcinfra destroy -c {name}`)",
                           style="bold red"))
            if not failed:
                raise typer.Exit(12)
    con.rule("[green]demo finished")
