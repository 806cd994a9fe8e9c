"""Batches: many single calls run on a bounded thread pool, each with its own result or error.

A batch is validated whole first (every item by the same checks the single call runs, plus no
item twice), so a bad item refuses the batch before any lock, store write or CSP call. Then a
dispatcher (the caller's thread) hands items to one pool, never more than ``concurrency`` at
once per connection; each item is the existing single call (``vms.start`` ...), so SP-Lock,
pending rows, call history and retries are exactly those of one call. Cancelling (a token, or
Ctrl-C in the caller's thread) stops new items; running ones finish, so no row is left pending.
``rollback_on_failure``: after a failure no new item starts, and what the batch made is deleted
(NLB -> VM -> key pair/SG -> VPC).

Managers reach this through ``create_many`` / ``start_many`` / ``delete_many`` ...; ``Infra.batch``
through :func:`run_batch`. This module imports no manager, connection or ``Infra``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict

from mcinfra.core import validation as v
from mcinfra.core.batch_requests import (
    BatchRequest,
    DeleteReq,
    KeyPairCreateReq,
    NLBCreateReq,
    SecurityGroupCreateReq,
    TerminateReq,
    VMControlReq,
    VMStartReq,
    VPCCreateReq,
    build_request,
)
from mcinfra.core.batch_results import (
    BatchInterrupted,
    BatchItem,
    BatchResult,
    InvalidBatchRequest,
    ItemStatus,
)
from mcinfra.core.display import ItemProgress, rich_bar
from mcinfra.core.errors import InvalidRequest, McInfraError
from mcinfra.core.models import Kind

if TYPE_CHECKING:
    from mcinfra.core.connection import Connection
    from mcinfra.core.infra import Infra

log = logging.getLogger("mcinfra")

#: default items at once per connection
DEFAULT_CONCURRENCY = 16
#: the most worker threads one batch may use
MAX_WORKERS = 512
#: how often the dispatcher looks at the cancel token while items run (seconds)
POLL = 0.05


class Cancel(Protocol):
    def is_set(self) -> bool: ...


# ---------------------------------------------------------------- operations
@dataclass(frozen=True)
class OpSpec:
    """One batchable operation: ``getattr(connection, attr).method(name, **request.call_kwargs())``."""

    attr: str
    method: str
    request: type[BatchRequest]
    kind: Kind
    #: run order within ``Infra.batch`` (what others depend on first; deletes the other way)
    phase: int
    #: it makes something that rollback may delete
    creates: bool = False


OPS: dict[str, OpSpec] = {spec.attr + "." + spec.method: spec for spec in (
    OpSpec("vpcs", "create", VPCCreateReq, Kind.VPC, 0, creates=True),
    OpSpec("security_groups", "create", SecurityGroupCreateReq, Kind.SECURITY_GROUP, 1, creates=True),
    OpSpec("keypairs", "create", KeyPairCreateReq, Kind.KEYPAIR, 1, creates=True),
    OpSpec("vms", "start", VMStartReq, Kind.VM, 2, creates=True),
    OpSpec("nlbs", "create", NLBCreateReq, Kind.NLB, 3, creates=True),
    OpSpec("vms", "suspend", VMControlReq, Kind.VM, 4),
    OpSpec("vms", "resume", VMControlReq, Kind.VM, 4),
    OpSpec("vms", "reboot", VMControlReq, Kind.VM, 4),
    OpSpec("nlbs", "delete", DeleteReq, Kind.NLB, 5),
    OpSpec("vms", "terminate", TerminateReq, Kind.VM, 6),
    OpSpec("security_groups", "delete", DeleteReq, Kind.SECURITY_GROUP, 7),
    OpSpec("keypairs", "delete", DeleteReq, Kind.KEYPAIR, 7),
    OpSpec("vpcs", "delete", DeleteReq, Kind.VPC, 8),
)}
_ATTR_OF_KIND = {Kind.VPC: "vpcs", Kind.SECURITY_GROUP: "security_groups", Kind.KEYPAIR: "keypairs",
                 Kind.VM: "vms", Kind.NLB: "nlbs"}
_KIND_NAMES = {k.value for k in _ATTR_OF_KIND}
#: other spellings an orchestrator may use: "vm.start", "vms.create", "vms.delete", "sg.create"
ALIASES = {"vms.create": "vms.start", "vms.delete": "vms.terminate", "sgs.create": "security_groups.create",
           "sgs.delete": "security_groups.delete", "sg.create": "security_groups.create",
           "sg.delete": "security_groups.delete"}
#: rollback order: what depends on others goes first (as destroy_all)
UNDO_PHASE = {Kind.NLB: 0, Kind.VM: 1, Kind.KEYPAIR: 2, Kind.SECURITY_GROUP: 2, Kind.VPC: 3}


def op_spec(op: Any) -> OpSpec | None:
    """The operation ``op`` names ("vms.start", "vm.start", "vpcs.delete", "sg.create", ...), or None."""
    if not isinstance(op, str):
        return None
    kind, _, method = op.strip().partition(".")
    attr = _ATTR_OF_KIND[Kind(kind)] if kind in _KIND_NAMES else kind
    key = f"{attr}.{method}"
    return OPS.get(ALIASES.get(key, key))


def kind_op(kind: Kind, action: str) -> str:
    """The batch operation that creates ("create") or deletes ("delete") a kind: "vms.start", "vpcs.delete"..."""
    attr = _ATTR_OF_KIND[kind]
    key = f"{attr}.{action}"
    return ALIASES.get(key, key)


# ---------------------------------------------------------------- jobs and the dispatcher
@dataclass
class Job:
    index: int
    connection: str
    operation: str
    name: str
    kind: Kind
    call: Callable[[], Any]
    undo: Callable[[], Any] | None = None
    phase: int = 0


def _execute(job: Job) -> BatchItem:
    """One item, in a worker thread: its call's result or error, never raised."""
    start = time.perf_counter()
    try:
        result = job.call()
    except Exception as exc:  # every item gets its own error; one failing never stops the others
        if not isinstance(exc, McInfraError):
            log.exception("batch item %d (%s %r) raised a non-mcinfra error", job.index, job.operation, job.name)
        return _item(job, ItemStatus.FAILED, error=exc, seconds=time.perf_counter() - start)
    return _item(job, ItemStatus.OK, result=result, seconds=time.perf_counter() - start)


def _item(job: Job, status: ItemStatus, *, result: Any = None, error: BaseException | None = None,
          message: str | None = None, seconds: float = 0.0) -> BatchItem:
    return BatchItem(index=job.index, connection=job.connection, operation=job.operation, name=job.name,
                     status=status, result=result, error=error,
                     error_type=type(error).__name__ if error is not None else None,
                     error_message=str(error) if error is not None else message, seconds=round(seconds, 6))


class _Dispatcher:
    """Runs jobs on a pool, at most ``limit(connection)`` at once per connection, phase by
    phase, stopping new ones when ``stop()`` gives a reason (or on Ctrl-C)."""

    def __init__(self, pool: ThreadPoolExecutor, limit: Callable[[str], int],
                 on_done: Callable[[Job, BatchItem], None], *, interruptible: bool = True) -> None:
        self.pool = pool
        self.limit = limit
        self.on_done = on_done
        #: whether Ctrl-C stops new items (a rollback is not interruptible)
        self.interruptible = interruptible
        self.interrupted = False

    def run(self, jobs: list[Job], stop: Callable[[], str | None]) -> dict[int, BatchItem]:
        out: dict[int, BatchItem] = {}
        for phase in sorted({j.phase for j in jobs}):
            self._run_phase([j for j in jobs if j.phase == phase], stop, out)
        return out

    def _run_phase(self, jobs: list[Job], stop: Callable[[], str | None], out: dict[int, BatchItem]) -> None:
        queues: dict[str, deque[Job]] = {}
        for job in jobs:
            queues.setdefault(job.connection, deque()).append(job)
        inflight: dict[Future[BatchItem], Job] = {}
        running: Counter[str] = Counter()
        while True:
            try:
                reason = "interrupted (Ctrl-C)" if self.interrupted else stop()
                if reason is not None:
                    for queue in queues.values():
                        while queue:
                            job = queue.popleft()
                            self._record(job, _item(job, ItemStatus.CANCELLED, message=f"not started: {reason}"), out)
                else:
                    self._submit(queues, inflight, running)
                if not inflight:
                    return
                done, _ = wait(inflight, timeout=POLL, return_when=FIRST_COMPLETED)
                for future in done:
                    job = inflight.pop(future)
                    running[job.connection] -= 1
                    self._record(job, future.result(), out)
            except KeyboardInterrupt:
                if not self.interruptible:
                    log.warning("a batch rollback cannot be interrupted: it goes on")
                    continue
                # the running items finish (their rows settle); no new one starts
                log.warning("batch interrupted: waiting for %d running item(s) to finish", len(inflight))
                self.interrupted = True

    def _submit(self, queues: dict[str, deque[Job]], inflight: dict[Future[BatchItem], Job],
                running: Counter[str]) -> None:
        """Round-robin over connections, so one with many items does not starve the others."""
        more = True
        while more:
            more = False
            for conn, queue in queues.items():
                if queue and running[conn] < self.limit(conn):
                    job = queue.popleft()
                    inflight[self.pool.submit(_execute, job)] = job
                    running[conn] += 1
                    more = True

    def _record(self, job: Job, item: BatchItem, out: dict[int, BatchItem]) -> None:
        out[job.index] = item
        try:
            self.on_done(job, item)
        except Exception:  # a progress callback's bug must not lose items
            log.exception("batch progress callback failed")


@contextmanager
def _progress(progress: ItemProgress | bool | None, total: int, label: str) -> Any:
    """``report(job, item)`` to the caller's callback ``(kind, name, error or None)`` (once per
    item: ok, failed or cancelled), a rich bar (``True``), or nothing; and ``note(text)`` for
    the bar's description (rollback)."""
    if progress is None or progress is False:
        yield (lambda job, item: None), (lambda text: None)
        return
    if callable(progress):
        def report(job: Job, item: BatchItem) -> None:
            error = None if item.status == ItemStatus.OK else (item.error_message or item.status.value)
            progress(job.kind.value, job.name, error)
        yield report, (lambda text: None)
        return
    with rich_bar(label, total) as step:
        def bar(job: Job, item: BatchItem) -> None:
            step(f"{job.operation} {job.name}: {item.status.value}", True)
        yield bar, (lambda text: step(text, False))


def run_jobs(jobs: list[Job], *, limit: Callable[[str], int], max_workers: int,
             progress: ItemProgress | bool | None = None, cancel: Cancel | None = None,
             rollback_on_failure: bool = False, label: str = "batch") -> BatchResult:
    """Run validated jobs; every job ends as one item of the result (ordered by index)."""
    start = time.perf_counter()
    counts = Counter(j.connection for j in jobs)
    workers = max(1, min(max_workers, sum(min(limit(c), n) for c, n in counts.items())))
    first_failure: list[int] = []
    cancelled = False

    def stop() -> str | None:
        nonlocal cancelled
        if cancel is not None and cancel.is_set():
            cancelled = True
            return "the batch was cancelled"
        if rollback_on_failure and first_failure:
            return f"item {first_failure[0]} failed (rollback_on_failure)"
        return None

    with (_progress(progress, len(jobs), label) as (report, note),
          ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mcinfra-batch") as pool):
        def on_done(job: Job, item: BatchItem) -> None:
            if item.status == ItemStatus.FAILED and not first_failure:
                first_failure.append(job.index)
            report(job, item)

        dispatcher = _Dispatcher(pool, limit, on_done)
        items = dispatcher.run(jobs, stop)
        rolled_back = False
        if rollback_on_failure and any(i.status == ItemStatus.FAILED for i in items.values()):
            rolled_back = True
            _roll_back(jobs, items, _Dispatcher(pool, limit, lambda job, item: note(f"rolled back {job.name}"),
                                                interruptible=False))
    for job in jobs:
        if job.index not in items:  # Ctrl-C between handing it to the pool and noting that: unknown
            items[job.index] = _item(job, ItemStatus.FAILED, message="interrupted while it was being started: its "
                                     "outcome is unknown (see list_all() and reconcile())")
    stopped = any(i.status == ItemStatus.CANCELLED for i in items.values())
    result = BatchResult(items=[items[j.index] for j in sorted(jobs, key=lambda j: j.index)],
                         seconds=round(time.perf_counter() - start, 6), workers=workers,
                         cancelled=(cancelled and stopped) or dispatcher.interrupted, rolled_back=rolled_back)
    if dispatcher.interrupted:
        raise BatchInterrupted(result)
    return result


def _roll_back(jobs: list[Job], items: dict[int, BatchItem], dispatcher: _Dispatcher) -> None:
    """Delete what the batch made, dependents first; each item says whether its undo worked."""
    undo = []
    for job in jobs:
        if job.undo is not None and items[job.index].status == ItemStatus.OK:
            undo.append(Job(job.index, job.connection, job.operation, job.name, job.kind, job.undo,
                            phase=UNDO_PHASE.get(job.kind, 0)))
    if not undo:
        return
    log.warning("batch: an item failed; rolling back %d item(s) it made", len(undo))
    done = dispatcher.run(undo, lambda: None)  # not interruptible: stopping half-way would strand resources
    for index, outcome in done.items():
        before = items[index]
        if outcome.status == ItemStatus.OK:
            # the resource is gone: its info (a key pair's private key included) describes nothing
            items[index] = before.model_copy(update={"status": ItemStatus.ROLLED_BACK, "result": None})
        else:
            items[index] = before.model_copy(update={"status": ItemStatus.ROLLBACK_FAILED,
                                                     "rollback_error": outcome.error_message})


# ---------------------------------------------------------------- argument checks
def check_options(*, concurrency: Any, progress: Any, rollback_on_failure: Any, cancel: Any,
                  max_workers: Any = None) -> None:
    if isinstance(concurrency, Mapping):
        for conn, n in concurrency.items():
            v.count(n, f"concurrency[{conn!r}]", maximum=MAX_WORKERS)
    else:
        v.count(concurrency, "concurrency", maximum=MAX_WORKERS)
    if max_workers is not None:
        v.count(max_workers, "max_workers", maximum=MAX_WORKERS)
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise InvalidRequest("progress must be a callback (kind, name, error), True, False or None", field="progress")
    v.flag(rollback_on_failure, "rollback_on_failure")
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise InvalidRequest("cancel must be a CancelToken (or anything with is_set(), e.g. threading.Event)",
                             field="cancel")


def _as_list(values: Any, what: str) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise InvalidRequest(f"{what} must be a list", field=what)
    return list(values)


def _no_twice(keys: list[tuple[str, str, str]], what: str) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for index, key in enumerate(keys):
        if key in seen:
            raise InvalidBatchRequest(f"{what}[{index}] repeats {key[1]} {key[2]!r} of {what}[{seen[key]}]"
                                      + (f" in connection {key[0]!r}" if key[0] else ""),
                                      index=index, field=f"{what}[{index}].name")
        seen[key] = index


def _job(index: int, connection: str, conn: Connection | None, spec: OpSpec, req: BatchRequest,
         manager: Any = None, failure: McInfraError | None = None) -> Job:
    manager = manager if manager is not None else (getattr(conn, spec.attr) if conn is not None else None)
    kwargs = req.call_kwargs()
    name = req.name

    def call() -> Any:
        if failure is not None:
            raise failure
        return getattr(manager, spec.method)(name, **kwargs)

    undo = (lambda: manager.delete(name)) if spec.creates and manager is not None else None
    return Job(index, connection, f"{spec.attr}.{spec.method}", name, spec.kind, call, undo, spec.phase)


# ---------------------------------------------------------------- one connection (the managers)
def many(manager: Any, op: str, requests: Any, *, what: str = "requests", defaults: dict[str, Any] | None = None,
         concurrency: int = DEFAULT_CONCURRENCY, progress: ItemProgress | bool | None = None,
         rollback_on_failure: bool = False, cancel: Cancel | None = None) -> BatchResult:
    """``manager.<op's method>`` once per request, as one batch (see the module doc)."""
    spec = OPS[op]
    check_options(concurrency=concurrency, progress=progress, rollback_on_failure=rollback_on_failure, cancel=cancel)
    raw = _as_list(requests, what)
    reqs = [build_request(spec.request, i, r, what=what, defaults=defaults) for i, r in enumerate(raw)]
    connection = manager._ctx.connection
    _no_twice([("", spec.kind.label, r.name) for r in reqs], what)
    jobs = [_job(i, connection, None, spec, r, manager=manager) for i, r in enumerate(reqs)]
    return run_jobs(jobs, limit=lambda c: concurrency, max_workers=concurrency, progress=progress, cancel=cancel,
                    rollback_on_failure=rollback_on_failure, label=f"{op} ({connection})")


# ---------------------------------------------------------------- across connections (Infra.batch)
class BatchOp(BaseModel):
    """One item of ``Infra.batch``: an operation ("vms.start", "vpcs.create", "vms.terminate",
    "vms.suspend", "<kind>.delete", ...) on a connection, with the single call's arguments."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    connection: str
    op: str
    args: dict[str, Any] | BatchRequest


def _as_op(index: int, value: Any, known: set[str]) -> tuple[str, OpSpec, BatchRequest]:
    where = f"items[{index}]"
    if isinstance(value, BatchOp):
        conn, op, args = value.connection, value.op, value.args
    elif isinstance(value, tuple | list) and len(value) == 3:
        conn, op, args = value
    elif isinstance(value, Mapping) and {"connection", "op"} <= set(value) and set(value) <= {"connection", "op",
                                                                                            "args"}:
        conn, op, args = value["connection"], value["op"], value.get("args", {})
    else:
        raise InvalidBatchRequest(f"{where} must be (connection, op, args), a BatchOp or a mapping with "
                                  "'connection', 'op' and 'args'", index=index, field=where)
    try:
        conn = v.name(conn, "connection")
    except InvalidRequest as exc:
        raise InvalidBatchRequest(f"{where}: {exc}", index=index, field=f"{where}.connection") from None
    if conn not in known:
        raise InvalidBatchRequest(f"{where}: connection {conn!r} does not exist", index=index,
                                  field=f"{where}.connection")
    spec = op_spec(op)
    if spec is None:
        known = ", ".join(sorted(OPS))
        raise InvalidBatchRequest(f"{where}: unknown operation {op!r}; known: {known}", index=index,
                                  field=f"{where}.op")
    return conn, spec, build_request(spec.request, index, args, what="items")


def run_batch(infra: Infra, items: Any, *, concurrency: int | Mapping[str, int] = DEFAULT_CONCURRENCY,
              max_workers: int | None = None, progress: ItemProgress | bool | None = None,
              rollback_on_failure: bool = False, cancel: Cancel | None = None, ordered: bool = True) -> BatchResult:
    """Items on any connections, as one batch (see ``Infra.batch``)."""
    check_options(concurrency=concurrency, progress=progress, rollback_on_failure=rollback_on_failure,
                  cancel=cancel, max_workers=max_workers)
    v.flag(ordered, "ordered")
    known = {c.name for c in infra.connections.list()}
    parsed = [_as_op(i, item, known) for i, item in enumerate(_as_list(items, "items"))]
    _no_twice([(c, f"{s.attr}.{s.method}", r.name) for c, s, r in parsed], "items")
    per_conn = dict(concurrency) if isinstance(concurrency, Mapping) else {}
    for conn in per_conn:
        if conn not in {c for c, _, _ in parsed}:
            raise InvalidRequest(f"concurrency names connection {conn!r}, which no item uses", field="concurrency")

    def limit(conn: str) -> int:
        return per_conn.get(conn, DEFAULT_CONCURRENCY if per_conn else concurrency)  # type: ignore[return-value]

    opened: dict[str, Connection | McInfraError] = {}
    for conn in dict.fromkeys(c for c, _, _ in parsed):
        try:
            opened[conn] = infra.connect(conn)
        except McInfraError as exc:  # that connection's items fail; the others run
            opened[conn] = exc
    jobs = []
    for index, (conn, spec, req) in enumerate(parsed):
        target = opened[conn]
        if isinstance(target, McInfraError):
            jobs.append(_job(index, conn, None, spec, req, failure=target))
        else:
            job = _job(index, conn, target, spec, req)
            job.phase = spec.phase if ordered else 0
            jobs.append(job)
    total = sum(min(limit(c), n) for c, n in Counter(c for c, _, _ in parsed).items())
    return run_jobs(jobs, limit=limit, max_workers=min(max_workers or MAX_WORKERS, max(total, 1)),
                    progress=progress, cancel=cancel, rollback_on_failure=rollback_on_failure, label="batch")


class BatchPlan:
    """A batch built step by step, then run: ``infra.batch_plan().add("aws-1", "vms.start",
    name="vm-1", ...).add(...).run(concurrency=8)``."""

    def __init__(self, infra: Infra) -> None:
        self._infra = infra
        self.items: list[BatchOp] = []

    def add(self, connection: str, op: str, request: BatchRequest | None = None, /, **args: Any) -> BatchPlan:
        """One item: the single call's arguments as keywords (``name=...`` included), or a request model."""
        if request is not None and args:
            raise InvalidRequest("give a request model or keyword arguments, not both", field="args")
        self.items.append(BatchOp.model_construct(connection=connection, op=op,
                                                  args=request if request is not None else args))
        return self

    def __len__(self) -> int:
        return len(self.items)

    def run(self, **options: Any) -> BatchResult:
        """Run the plan as ``Infra.batch(items, **options)``."""
        return run_batch(self._infra, self.items, **options)
