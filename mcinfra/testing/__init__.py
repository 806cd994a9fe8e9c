"""Help for users' own tests: a private mock cloud, fault injection, and the checks tests need.

The pytest plugin (:mod:`mcinfra.testing.pytest_plugin`, registered through the ``pytest11``
entry point, so installing mcinfra is enough) builds on :class:`TestCloud`; the class works
without pytest too (``with TestCloud.mock() as cloud: ...``). See docs/testing-your-code.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from mcinfra.core.errors import CloudError, InUse, McInfraError, NotFound

if TYPE_CHECKING:
    from mcinfra.core.connection import Connection
    from mcinfra.core.infra import Infra
    from mcinfra.core.models import CallRecord

#: the kinds whose resources a test can leave behind, in the order destroy_all removes them
STORED_KINDS = ("nlb", "vm", "keypair", "security_group", "vpc")
MOCK_OPTIONS = frozenset({"latency", "fail_rate", "seed"})


def _fault(kind: str, operation: str) -> Exception:
    """The error a chosen fault raises (``kind``: throttle, not_found, in_use, or a CSP code)."""
    if kind == "throttle":
        return CloudError("test", "Throttling", f"{operation}: rate exceeded (injected)", throttled=True)
    if kind == "not_found":
        return NotFound(f"{operation}: not found (injected)")
    if kind == "in_use":
        return InUse(f"{operation}: in use (injected)")
    return CloudError("test", kind, f"{operation}: injected fault")


class TestCloud:
    """One connection of a test, with what tests need to say about it.

    Attribute access falls through to the :class:`~mcinfra.Connection`, so ``cloud.vms.start(...)``
    works as on a real connection.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, infra: Infra, connection: str) -> None:
        self.infra = infra
        self.name = connection
        self.connection: Connection = infra.connect(connection)

    @classmethod
    @contextmanager
    def mock(cls, infra: Infra | None = None, **options: Any) -> Iterator[TestCloud]:
        """A mock connection on a region of its own (no state shared with any other test or
        process), dropped afterwards. ``options``: ``latency``, ``fail_rate``, ``seed``."""
        unknown = set(options) - MOCK_OPTIONS
        if unknown:
            from mcinfra.core.errors import InvalidRequest

            raise InvalidRequest(f"unknown mock test options {sorted(unknown)}; known: {sorted(MOCK_OPTIONS)}",
                                 field="options")
        from mcinfra.core.infra import Infra
        from mcinfra.drivers.mock.state import forget

        own = infra is None
        infra = infra or Infra("sqlite:///:memory:")
        cloud_id = f"test-{uuid.uuid4().hex[:12]}"
        name = f"mock-{cloud_id}"
        try:
            infra.connections.add(name, provider="mock", options={**options, "cloud_id": cloud_id})
            yield cls(infra, name)
        finally:
            forget(cloud_id)
            if own:
                infra.close()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.connection, attr)

    def __repr__(self) -> str:
        return f"<TestCloud {self.name!r}>"

    # ------------------------------------------------------------------ what was called
    @property
    def calls(self) -> list[CallRecord]:
        """Every handler call this connection made, oldest first (from the call history)."""
        return self.infra.history(connection=self.name, limit=1_000_000)

    @property
    def call_names(self) -> list[str]:
        """``["vpc.create", "vm.start", ...]``: the resource operations of :attr:`calls`, in order
        (without connecting and making handlers)."""
        return [c.operation for c in self.calls
                if not c.operation.endswith(".handler") and not c.operation.startswith("connection.")]

    # ------------------------------------------------------------------ faults
    @contextmanager
    def fail_next(self, operation: str, times: int = 1, error: str | Exception = "throttle") -> Iterator[None]:
        """Make the next ``times`` calls of ``operation`` ("vm.start", "vpc.delete", ...) fail.

        ``error``: "throttle", "not_found", "in_use", "lost_reply" (the cloud does the work, the
        answer is lost), any other string (a ``CloudError`` with that code), or an exception.
        Works on every driver: it wraps the driver's handler method for the block.
        """
        kind, _, method = operation.partition(".")
        if not method or kind not in (*STORED_KINDS, "region_zone", "image", "spec"):
            from mcinfra.core.errors import InvalidRequest

            raise InvalidRequest(f"operation must be '<kind>.<method>', e.g. 'vm.start', not {operation!r}",
                                 field="operation")
        handler = getattr(self.connection.handlers, kind)
        original: Callable[..., Any] = getattr(handler, method)
        left = [times]

        def failing(*args: Any, **kwargs: Any) -> Any:
            if left[0] <= 0:
                return original(*args, **kwargs)
            left[0] -= 1
            if error == "lost_reply":
                original(*args, **kwargs)
                raise CloudError("test", "LostReply", f"{operation}: the reply was lost (injected)", retryable=True)
            raise error if isinstance(error, Exception) else _fault(error, operation)

        setattr(handler, method, failing)
        try:
            yield
        finally:
            if handler.__dict__.get(method) is failing:
                delattr(handler, method)

    # ------------------------------------------------------------------ checks
    def mapped(self) -> set[tuple[str, str]]:
        """(kind, name) of everything the store maps for this connection now."""
        return {(r.kind, r.name_id) for r in self.infra.store.list(self.name) if r.kind in STORED_KINDS}

    def destroy_new(self, before: set[tuple[str, str]]) -> list[str]:
        """Delete what was made since ``before`` (a :meth:`mapped` snapshot), leaving older
        resources alone; returns what could not be deleted."""
        failed = []
        for kind in STORED_KINDS:
            for name in sorted(n for k, n in self.mapped() - before if k == kind):
                try:
                    self.connection.manager(kind).delete(name)
                except NotFound:
                    pass
                except McInfraError as exc:
                    failed.append(f"{kind} {name}: {exc}")
        return failed

    def leftovers(self) -> dict[str, list[str]]:
        """What is still there, per kind: names in the store, and CSP ids the store does not map."""
        out: dict[str, list[str]] = {}
        for kind in STORED_KINDS:
            listed = self.connection.manager(kind).list_all()
            found = [i.name_id for i in listed.mapped + listed.only_store] + [i.system_id for i in listed.only_csp]
            unsettled = [f"{r.name_id} ({r.state})" for r in self.infra.store.unsettled(self.name)
                         if r.kind == kind and r.state == "pending"]
            if found or unsettled:
                out[kind] = found + unsettled
        return out

    def assert_no_leftovers(self) -> None:
        """Nothing of this connection is left, in the store or at the cloud."""
        left = self.leftovers()
        assert not left, f"left behind in {self.name!r}: {left}"

    def assert_store_matches_cloud(self) -> None:
        """Every stored resource exists at the cloud and the cloud has nothing unmapped; no pending
        or deleting rows (what a crash leaves for ``reconcile()``)."""
        problems: dict[str, Any] = {}
        for kind in STORED_KINDS:
            listed = self.connection.manager(kind).list_all()
            if listed.only_csp or listed.only_store:
                problems[kind] = {"only_csp": [i.system_id for i in listed.only_csp],
                                  "only_store": [i.name_id for i in listed.only_store]}
        unsettled = [f"{r.label} ({r.state})" for r in self.infra.store.unsettled(self.name)]
        if unsettled:
            problems["unsettled"] = unsettled
        assert not problems, f"store and cloud disagree for {self.name!r}: {problems}"


__all__ = ["TestCloud"]
