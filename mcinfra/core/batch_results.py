"""What a batch returns: one :class:`BatchItem` per request, in request order, inside a
:class:`BatchResult`; and the tokens and errors that go with batches.

This module imports only the leaves (models, errors), so :mod:`mcinfra.core.display` can show
batch results with the same table code as every other result.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mcinfra.core.errors import InvalidRequest, McInfraError


class ItemStatus(StrEnum):
    """How one item of a batch ended."""

    OK = "ok"
    FAILED = "failed"
    #: never started: the batch was cancelled (token, Ctrl-C) or stopped by a failure (rollback)
    CANCELLED = "cancelled"
    #: it worked, then ``rollback_on_failure`` undid it
    ROLLED_BACK = "rolled_back"
    #: it worked, and undoing it failed too (``rollback_error`` says why): it still exists
    ROLLBACK_FAILED = "rollback_failed"


class BatchItem(BaseModel):
    """One request's outcome. ``result`` is what the single call returns (a ``VMInfo``, a
    ``VMStatus``, None for deletes); ``error`` the typed exception it raised (not serialised;
    ``error_type`` and ``error_message`` are)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: int
    connection: str
    operation: str
    name: str
    status: ItemStatus
    result: Any = None
    error: BaseException | None = Field(None, exclude=True, repr=False)
    error_type: str | None = None
    error_message: str | None = None
    rollback_error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == ItemStatus.OK

    def _repr_html_(self) -> str | None:
        from mcinfra.core.display import html_of

        return html_of([self])

    def __rich__(self) -> Any:
        from mcinfra.core.display import rich_of

        return rich_of([self]) or repr(self)


class BatchResult(BaseModel):
    """Every item of a batch, ordered like the requests. Nothing is raised half-way: look at
    :attr:`failed` / :attr:`errors`, or call :meth:`raise_for_errors`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    items: list[BatchItem] = Field(default_factory=list)
    #: wall time of the whole batch (rollback included)
    seconds: float = 0.0
    #: worker threads of the pool that ran it
    workers: int = 0
    #: the cancel token was set (or Ctrl-C) before every item had started
    cancelled: bool = False
    #: rollback_on_failure ran (an item failed)
    rolled_back: bool = False

    # ------------------------------------------------------------------ sequence of items
    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[BatchItem]:  # type: ignore[override]
        return iter(self.items)

    def __getitem__(self, index: int) -> BatchItem:
        return self.items[index]

    # ------------------------------------------------------------------ views
    def _with(self, *statuses: ItemStatus) -> list[BatchItem]:
        return [i for i in self.items if i.status in statuses]

    @property
    def ok(self) -> list[BatchItem]:
        """The items that worked (and were not rolled back)."""
        return self._with(ItemStatus.OK)

    @property
    def failed(self) -> list[BatchItem]:
        """The items whose call raised."""
        return self._with(ItemStatus.FAILED)

    @property
    def cancelled_items(self) -> list[BatchItem]:
        return self._with(ItemStatus.CANCELLED)

    @property
    def rolled_back_items(self) -> list[BatchItem]:
        return self._with(ItemStatus.ROLLED_BACK, ItemStatus.ROLLBACK_FAILED)

    @property
    def all_ok(self) -> bool:
        return all(i.status == ItemStatus.OK for i in self.items)

    @property
    def errors(self) -> dict[int, BaseException]:
        """request index -> the error its call raised."""
        return {i.index: i.error for i in self.items if i.error is not None}

    @property
    def results(self) -> list[Any]:
        """Each request's result (None where it failed, was cancelled or rolled back)."""
        return [i.result if i.status == ItemStatus.OK else None for i in self.items]

    def counts(self) -> dict[str, int]:
        """status -> how many items ended so (every status, zeros included)."""
        out = {s.value: 0 for s in ItemStatus}
        for i in self.items:
            out[i.status.value] += 1
        return out

    def summary(self) -> str:
        shown = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        return f"{len(self.items)} item(s) in {self.seconds:.2f}s: {shown or 'nothing to do'}"

    def raise_for_errors(self) -> BatchResult:
        """Raise :class:`BatchError` unless every item worked; returns ``self`` otherwise."""
        if not self.all_ok:
            raise BatchError(self)
        return self

    # ------------------------------------------------------------------ display
    def _repr_html_(self) -> str | None:
        import html

        from mcinfra.core.display import html_of

        return f"<p>{html.escape(self.summary())}</p>" + (html_of(self.items) or "")

    def __rich__(self) -> Any:
        from rich.console import Group
        from rich.text import Text

        from mcinfra.core.display import rich_of

        style = "green" if self.all_ok else "yellow"
        table = rich_of(self.items)
        return Group(Text(self.summary(), style=style), *([table] if table is not None else []))


class BatchError(McInfraError):
    """Raised by :meth:`BatchResult.raise_for_errors`: some items did not work. ``result`` has
    every item; the message names the first few failures."""

    def __init__(self, result: BatchResult) -> None:
        bad = [i for i in result.items if i.status != ItemStatus.OK]
        shown = "; ".join(f"[{i.index}] {i.operation} {i.name!r}: {i.status.value}"
                          + (f" ({i.error_type}: {i.error_message})" if i.error_message else "")
                          for i in bad[:5])
        more = f"; and {len(bad) - 5} more" if len(bad) > 5 else ""
        super().__init__(f"{len(bad)} of {len(result.items)} batch item(s) did not work: {shown}{more}")
        self.result = result


class InvalidBatchRequest(InvalidRequest):
    """One request of a batch is bad; found before anything of the batch ran. ``index`` is its
    position in the requests; ``field`` reads ``requests[<index>].<field>``."""

    def __init__(self, message: str, *, index: int, field: str | None) -> None:
        super().__init__(message, field=field)
        self.index = index


class BatchInterrupted(KeyboardInterrupt):
    """Ctrl-C during a batch: no new item was started, the running ones finished, and
    ``result`` says what happened to each (the not-started ones are cancelled)."""

    def __init__(self, result: BatchResult) -> None:
        super().__init__(f"batch interrupted: {result.summary()}")
        self.result = result


class CancelToken:
    """Cancels a batch from another thread: ``token.cancel()`` stops new items from starting;
    the running ones finish. Any object with ``is_set()`` (e.g. a ``threading.Event``) works too."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def __repr__(self) -> str:
        return f"<CancelToken cancelled={self.cancelled}>"
