"""The driver kit: the one retry policy, rollback, typed options, error tables, paging."""

from __future__ import annotations

import logging

import pytest

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, NotFound
from mcinfra.drivers.kit import DriverOptions, ErrorTable, RetryPolicy, Rollback, describe_one, paginate, poll_until


class Flaky:
    """Fails with ``error`` for the first ``failures`` calls, then answers "ok"; counts tries."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures, self.tries = error, failures, 0

    def __call__(self) -> str:
        self.tries += 1
        if self.tries <= self.failures:
            raise self.error
        return "ok"


def policy(**kw: object) -> tuple[RetryPolicy, list[float]]:
    pauses: list[float] = []
    return RetryPolicy(sleep=pauses.append, **kw), pauses  # type: ignore[arg-type]


THROTTLED = CloudError("x", "Throttling", "slow down", throttled=True)
SERVER = CloudError("x", "InternalError", "oops", retryable=True)


def test_throttled_idempotent_call_is_tried_exactly_attempts_times() -> None:
    p, pauses = policy(attempts=5)
    call = Flaky(THROTTLED, failures=100)
    with pytest.raises(CloudError):
        p.run(call, idempotent=True)
    assert call.tries == 5 and len(pauses) == 4
    call = Flaky(THROTTLED, failures=4)
    assert p.run(call, idempotent=True) == "ok" and call.tries == 5


def test_non_idempotent_call_is_not_retried_when_the_cloud_may_have_acted() -> None:
    p, pauses = policy(attempts=5)
    call = Flaky(SERVER, failures=1)
    with pytest.raises(CloudError):
        p.run(call, idempotent=False)
    assert call.tries == 1 and pauses == []
    # the same error on a read is retried
    assert p.run(Flaky(SERVER, failures=1), idempotent=True) == "ok"


def test_throttling_is_retried_even_for_a_write_because_the_cloud_refused_it() -> None:
    p, _ = policy(attempts=3)
    call = Flaky(THROTTLED, failures=2)
    assert p.run(call, idempotent=False) == "ok" and call.tries == 3


def test_other_errors_are_never_retried() -> None:
    p, _ = policy(attempts=5)
    for err in (NotFound("gone"), CloudError("x", "Denied", "no"), InUse("busy")):
        call = Flaky(err, failures=1)
        with pytest.raises(type(err)):
            p.run(call, idempotent=True)
        assert call.tries == 1


def test_backoff_is_bounded_by_the_budget_and_honours_retry_after() -> None:
    p, pauses = policy(attempts=10, base=1.0, cap=4.0, budget=6.0)
    call = Flaky(THROTTLED, failures=100)
    with pytest.raises(CloudError):
        p.run(call, idempotent=True)
    assert sum(pauses) <= 6.0 and call.tries == len(pauses) + 1 < 10
    p, pauses = policy(attempts=2, base=0.01)
    hinted = CloudError("x", "TooMany", "wait", throttled=True, retry_after=3.0)
    p.run(Flaky(hinted, failures=1), idempotent=True)
    assert pauses == [3.0]


def test_rollback_undoes_newest_first_and_reraises_the_first_error(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    def fail() -> None:
        raise RuntimeError("undo failed")

    def gone() -> None:
        raise NotFound("already gone")

    with pytest.raises(CloudError) as info, caplog.at_level(logging.WARNING), Rollback("vm vm-01") as undo:
        undo.push("nic", lambda: done.append("nic"))
        undo.push("ip", fail)
        undo.push("disk", gone)
        undo.push("sg", lambda: done.append("sg"))
        raise CloudError("x", "Boom", "create failed")
    assert info.value.code == "Boom"
    assert done == ["sg", "nic"]
    assert undo.failed == ["ip"]
    assert any("left ip behind" in note for note in info.value.__notes__)
    assert "could not undo ip" in caplog.text


def test_rollback_keeps_everything_on_success() -> None:
    done: list[str] = []
    with Rollback("vpc") as undo:
        undo.push("vpc", lambda: done.append("vpc"))
    assert done == []


class ToyOptions(DriverOptions):
    poll_interval: float = 1.0
    flavour: str = "small"


def test_options_reject_typos_and_bad_values_naming_the_option() -> None:
    assert ToyOptions.parse("toy", {"poll_interval": "0.5"}).poll_interval == 0.5
    with pytest.raises(InvalidRequest) as info:
        ToyOptions.parse("toy", {"poll_intervall": 1})
    assert info.value.field == "options.poll_intervall" and "poll_interval" in str(info.value)
    with pytest.raises(InvalidRequest) as info:
        ToyOptions.parse("toy", {"poll_interval": "soon"})
    assert info.value.field == "options.poll_interval" and info.value.__cause__ is None
    with pytest.raises(InvalidRequest):
        ToyOptions.parse("toy", {"retry_attempts": 0})
    p = ToyOptions.parse("toy", {"retry_attempts": 2, "retry_budget": 1}).retry_policy()
    assert (p.attempts, p.budget) == (2, 1.0)


def test_error_table_maps_codes_suffixes_and_statuses() -> None:
    table = ErrorTable(
        "toy", not_found=frozenset({"NoSuchThing"}), in_use=frozenset({"DependencyViolation"}),
        throttled=frozenset({"RequestLimitExceeded"}), suffixes={".Duplicate": AlreadyExists},
    )
    assert isinstance(table.error("NoSuchThing", "m"), NotFound)
    assert isinstance(table.error("InvalidGroup.Duplicate", "m"), AlreadyExists)
    assert isinstance(table.error("DependencyViolation", "m"), InUse)
    assert isinstance(table.error("Whatever", "m", status=404), NotFound)
    slow = table.error("RequestLimitExceeded", "m", status=400)
    assert isinstance(slow, CloudError) and slow.throttled and slow.retryable
    busy = table.error("ServiceUnavailable", "m", status=503)
    assert isinstance(busy, CloudError) and busy.retryable and not busy.throttled
    plain = table.error("AuthFailure", "bad signature", status=401)
    assert isinstance(plain, CloudError) and not plain.retryable and str(plain) == "[toy] AuthFailure: bad signature"


def test_describe_one_paginate_and_poll_until() -> None:
    assert describe_one([1, 2], "thing") == 1
    with pytest.raises(NotFound, match="vpc-1 not found"):
        describe_one([], "vpc-1")
    pages = {None: ([1, 2], "b"), "b": ([3], "c"), "c": ([], None)}
    assert list(paginate(lambda t: pages[t])) == [1, 2, 3]
    assert list(paginate(lambda t: pages[t], limit=2)) == [1, 2]
    offsets = [[1, 2], [3, 4], [5]]
    assert list(paginate(lambda o: (offsets[o or 0], (o or 0) + 1 if (o or 0) + 1 < len(offsets) else None))) == [
        1, 2, 3, 4, 5]
    states = iter(["PENDING", "PENDING", "ACTIVE"])
    assert poll_until(lambda: next(states), lambda s: s == "ACTIVE", timeout=5, interval=0.001,
                      provider="toy", what="lb") == "ACTIVE"
    with pytest.raises(CloudError) as info:
        poll_until(lambda: "PENDING", lambda s: s == "ACTIVE", timeout=0.01, interval=0.001, provider="toy", what="lb")
    assert info.value.code == "OperationTimeout"


def test_client_session_builds_listed_handlers_and_refuses_the_rest() -> None:
    from mcinfra.core.errors import Unsupported
    from mcinfra.core.handlers import SessionInfo, module_installed
    from mcinfra.drivers.kit import ClientSession

    class Session(ClientSession):
        HANDLERS = {"images": "mcinfra.drivers.mock.catalog:MockImages"}

    class Client:
        closed = False

        def close(self) -> None:
            self.closed = True

    client = Client()
    session = Session(SessionInfo(name="c", provider="toy"), client)
    with pytest.raises(TypeError):  # the listed class is built with the client
        session.images()
    with pytest.raises(Unsupported, match="no nlb handler"):
        session.nlbs()
    session.close()
    assert client.closed
    assert module_installed("json") and module_installed("email.mime")
    assert not module_installed("json.no_such_module") and not module_installed("no_such_package.x")
