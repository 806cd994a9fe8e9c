"""The opt-in live targets: the conformance suite against a real cloud account.

Selected only when ``MCINFRA_LIVE`` names the provider (``MCINFRA_LIVE=aws``, ``=gcp``,
``=aws,gcp``) and the SDK's usual credentials are in the environment; skipped otherwise, and
refused whenever ``CI`` is set, so that no CI run ever makes (and pays for) cloud resources.

Every CSP-side name the run makes starts with the run's tag (``t`` + 5 random characters,
printed at the start), e.g. ``tq7xk2-vpc-01-abcdefgh``. Each scenario destroys what it made
(``destroy_all`` in the ``cloud`` fixture); at the end of the session :meth:`LiveRun.finish` runs
``destroy_all`` again for every connection the run opened, then deletes whatever the CSP still
lists with the tag (``list_all().only_csp``: resources a failed scenario had unregistered) and
reports what is left. After a killed run::

    MCINFRA_LIVE=aws python -m tests.conformance.targets.live sweep <tag>

See docs/testing.md for how to run it and what it costs.
"""

from __future__ import annotations

import base64
import logging
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import mcinfra
from tests.conformance.targets import Target

log = logging.getLogger("mcinfra.tests.live")

ENV = "MCINFRA_LIVE"
#: destroy order (what depends on others first), as Connection.destroy_all
SWEEP_ORDER = ("nlb", "vm", "keypair", "security_group", "vpc")


def ci_is_set(environ: Mapping[str, str]) -> bool:
    return environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def requested(environ: Mapping[str, str]) -> set[str]:
    return {p.strip().lower() for p in environ.get(ENV, "").split(",") if p.strip()}


def skip_reason(provider: str, environ: Mapping[str, str], missing_credentials: Callable[[Mapping[str, str]], str]
                ) -> str | None:
    """Why the live ``provider`` target must not run here (None: it runs)."""
    if provider not in requested(environ):
        return f"live {provider} target not requested (set {ENV}={provider} and the SDK's credentials to run it)"
    if ci_is_set(environ):
        return f"refusing the live {provider} target: CI is set, and CI never makes cloud resources"
    missing = missing_credentials(environ)
    return f"live {provider} target: {missing}" if missing else None


def new_tag() -> str:
    """``t`` + 5 lowercase base32 characters: a letter first, valid in every CSP's names."""
    return "t" + base64.b32encode(secrets.token_bytes(5)).decode().lower()[:5]


@dataclass
class LiveRun:
    """One live session: a store shared by its scenarios, a connection per scenario, the tag."""

    target: Target
    tag: str = field(default_factory=new_tag)
    infra: mcinfra.Infra = field(init=False)
    connections: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # a file store: if the run dies, the mappings survive next to the printed tag
        self.db = Path(tempfile.mkdtemp(prefix=f"mcinfra-live-{self.tag}-")) / "store.db"
        self.infra = mcinfra.Infra(f"sqlite:///{self.db}")
        t = self.target
        cred = region = None
        if t.credentials:
            cred = self.infra.credentials.add(f"{self.tag}-cred", provider=t.provider, keys=t.credentials).name
        if t.region:
            region = self.infra.regions.add(f"{self.tag}-region", provider=t.provider, region=t.region,
                                            zone=t.zone).name
        self._cred, self._region = cred, region

    # ---------------------------------------------------------------- names
    def tagged(self, csp_name: str) -> bool:
        return csp_name.lower().startswith(self.tag)

    def install_tag(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Make every CSP-side name start with the tag while a scenario runs."""
        from mcinfra.core import naming

        original = naming.csp_name
        tag = self.tag

        def tagged_csp_name(user_name: str, kind: str, rules: Any) -> str:
            return original(f"{tag}-{user_name}", kind, rules)

        monkeypatch.setattr(naming, "csp_name", tagged_csp_name)
        for mod in list(sys.modules.values()):  # modules that imported the function by name
            if getattr(mod, "__name__", "").startswith("mcinfra.") and getattr(mod, "csp_name", None) is original:
                monkeypatch.setattr(mod, "csp_name", tagged_csp_name)

    # ---------------------------------------------------------------- connections
    def connect(self) -> mcinfra.Connection:
        name = f"{self.tag}-{len(self.connections) + 1}"
        self.infra.connections.add(name, provider=self.target.provider, credential=self._cred, region=self._region,
                                   options=self.target.options)
        self.connections.append(name)
        return self.infra.connect(name)

    def finish(self, *, rounds: int = 10, pause: float = 10.0, passes: int = 3) -> dict[str, list[mcinfra.IID]]:
        """destroy_all for every connection, then delete what the CSP still lists with the tag,
        again while either left something (an unmapped SG keeps a mapped VPC alive); returns
        what is left (kind -> IIDs), empty when the account is clean."""
        conns = [self.infra.connect(n) for n in self.connections] or [self.connect()]
        left: dict[str, list[mcinfra.IID]] = {}
        for _ in range(passes):
            clean = True
            for conn in conns:
                report = conn.destroy_all(rounds=rounds, pause=pause)
                if not report.all_destroyed:
                    clean = False
                    log.warning("live %s: destroy_all of %s left %s", self.tag, conn.name, report.remaining)
            left = sweep(conns[0], self.tagged, rounds=rounds, pause=pause)
            if clean and not left:
                return {}
        for conn in conns:  # what the store still maps is left too
            for kind in SWEEP_ORDER:
                left.setdefault(kind, []).extend(conn.manager(kind).list_all().mapped)
        return {k: v for k, v in left.items() if v}

    def close(self) -> None:
        self.infra.close()


def sweep(conn: mcinfra.Connection, tagged: Callable[[str], bool], *, rounds: int = 10, pause: float = 10.0
          ) -> dict[str, list[mcinfra.IID]]:
    """Delete every CSP resource of ``conn``'s account and region that ``tagged`` accepts and no
    store maps (``list_all().only_csp``), in dependency order, retrying refused deletes for up
    to ``rounds`` rounds; returns what is still listed (kind -> IIDs)."""
    left: dict[str, list[mcinfra.IID]] = {}
    for kind in SWEEP_ORDER:
        manager = conn.manager(kind)
        for attempt in range(rounds):
            try:
                todo = [i for i in manager.list_all().only_csp if tagged(i.name_id)]
            except mcinfra.Unsupported:
                todo = []
            for iid in todo:
                try:
                    manager.delete_csp(iid.system_id)
                except mcinfra.NotFound:
                    pass
                except mcinfra.McInfraError as exc:  # in use by something still going away: next round
                    log.warning("sweep: %s %s (%s) not deleted yet: %s", kind, iid.name_id, iid.system_id, exc)
            if not todo:
                break
            if attempt + 1 < rounds:
                time.sleep(pause)
    for kind in SWEEP_ORDER:
        try:
            found = [i for i in conn.manager(kind).list_all().only_csp if tagged(i.name_id)]
        except mcinfra.Unsupported:
            found = []
        if found:
            left[kind] = found
    return left


@contextmanager
def live_target(provider: str, missing_credentials: Callable[[Mapping[str, str]], str],
                make: Callable[[], Target], environ: Mapping[str, str] | None = None) -> Iterator[Target]:
    """The live target's context: skip unless selected, yield a Target carrying a LiveRun, and
    always finish the run (destroy, sweep, report) at the end of the session."""
    import os

    reason = skip_reason(provider, os.environ if environ is None else environ, missing_credentials)
    if reason:
        pytest.skip(reason)
    target = make()
    run = LiveRun(target)
    target.live = run
    print(f"\n[live {provider}] run tag {run.tag}: every CSP name starts with it; store {run.db}")
    try:
        yield target
    finally:
        try:
            left = run.finish()
        finally:
            run.close()
        if left:
            pytest.fail(f"[live {provider}] run {run.tag} left resources at the CSP: {left} "
                        f"(retry: {ENV}={provider} python -m tests.conformance.targets.live sweep {run.tag})",
                        pytrace=False)
        print(f"\n[live {provider}] run {run.tag}: nothing tagged is left")


def _main(argv: list[str]) -> int:
    """``python -m tests.conformance.targets.live sweep <tag>``: delete what a killed run left."""
    import importlib
    import os

    if len(argv) != 2 or argv[0] != "sweep":
        print("usage: MCINFRA_LIVE=<provider> python -m tests.conformance.targets.live sweep <tag>", file=sys.stderr)
        return 2
    tag = argv[1].lower()
    for provider in sorted(requested(os.environ)):
        mod = importlib.import_module(f"tests.conformance.targets.live_{provider}")
        missing = mod.missing_credentials(os.environ)
        if missing:
            print(f"{provider}: {missing}", file=sys.stderr)
            return 1
        run = LiveRun(mod.make_target(), tag=tag)
        try:
            left = sweep(run.connect(), run.tagged, pause=10.0)
        finally:
            run.close()
        print(f"{provider}: {'left ' + str(left) if left else 'nothing tagged ' + tag + ' is left'}")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
