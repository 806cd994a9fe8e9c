"""A worker process for the multi-process tests: ``python -m tests.pg.worker <command> <url> ...``.

Every command opens its own ``Infra`` on the shared PostgreSQL store (so PostgreSQL SP-Locks)
and uses the connection ``conf`` the test made. Progress lines go to stdout, flushed, so the
test can wait for a step; results are one JSON line.
"""

from __future__ import annotations

import json
import random
import sys
import time

import mcinfra


def say(line: str) -> None:
    print(line, flush=True)


def creates(url: str, names: int, seed: int) -> None:
    """Create key pairs kp-00.. in a shuffled order; report which ones this process got."""
    order = [f"kp-{i:02d}" for i in range(names)]
    random.Random(seed).shuffle(order)
    out: dict[str, list[str]] = {"created": [], "exists": [], "other": []}
    with mcinfra.Infra(url, lock_timeout=120) as infra:
        cloud = infra.connect("conf")
        say("ready")
        for name in order:
            try:
                cloud.keypairs.create(name)
                out["created"].append(name)
            except mcinfra.AlreadyExists:
                out["exists"].append(name)
            except mcinfra.McInfraError as exc:
                out["other"].append(f"{name}: {type(exc).__name__}: {exc}")
    say(json.dumps(out))


def hold(url: str, key: str) -> None:
    """Hold a write lock and never let go (the test kills this process)."""
    with mcinfra.Infra(url) as infra, infra.locks.hold(writes=[tuple(json.loads(key))]):
        say("held")
        time.sleep(3600)


def wait_lock(url: str, key: str) -> None:
    with mcinfra.Infra(url, lock_timeout=120) as infra:
        say("waiting")
        with infra.locks.hold(writes=[tuple(json.loads(key))]):
            say("got")


def create_vpc(url: str, name: str) -> None:
    with mcinfra.Infra(url) as infra:
        infra.connect("conf").vpcs.create(name, cidr="10.1.0.0/16")
        say("created")


def create_sg(url: str, vpc: str, name: str) -> None:
    with mcinfra.Infra(url) as infra:
        infra.connect("conf").security_groups.create(name, vpc=vpc)
        say("created")


def register(url: str, system_id: str, name: str) -> None:
    """Register one CSP VPC id under ``name`` once every worker is ready (the test says 'go')."""
    with mcinfra.Infra(url, lock_timeout=120) as infra:
        cloud = infra.connect("conf")
        say("ready")
        sys.stdin.readline()
        try:
            cloud.vpcs.register(name, system_id)
            say("won")
        except mcinfra.AlreadyExists:
            say("lost")


COMMANDS = {"creates": creates, "hold": hold, "wait_lock": wait_lock, "create_vpc": create_vpc,
            "create_sg": create_sg, "register": register}

if __name__ == "__main__":
    cmd, url, *args = sys.argv[1:]
    fn = COMMANDS[cmd]
    fn(url, *[int(a) if a.isdigit() else a for a in args])  # type: ignore[operator]
