"""Client-side rate limits (mcinfra.drivers.ratelimit, through the kit's RetryPolicy and the mock).

Every test runs on an injected clock: nothing here measures or waits on wall-clock time.
"""

from __future__ import annotations

import gc
import itertools
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest

import mcinfra
from mcinfra.core.errors import CloudError, InvalidRequest
from mcinfra.drivers import ratelimit
from mcinfra.drivers.kit import DriverOptions, RetryPolicy, rate_limits
from mcinfra.drivers.mock.options import MockOptions
from mcinfra.drivers.ratelimit import RateLimits


class FakeTime:
    """A clock that moves only when somebody sleeps (or a test advances it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


class FrozenTime(FakeTime):
    """A clock that never moves: every wait is the caller's reservation, measured from 0."""

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any half-open window [t, t + window) (1e-9 s of float drift tolerated)."""
    times = sorted(times)
    best, q = 0, deque[float]()
    for t in times:
        q.append(t)
        while q[0] <= t - window + 1e-9:
            q.popleft()
        best = max(best, len(q))
    return best


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def registry(fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch) -> RateLimits:
    """A fresh process registry on the fake clock (what every driver's options use)."""
    reg = RateLimits(clock=fake_time.clock, sleep=fake_time.sleep)
    monkeypatch.setattr(ratelimit, "RATE_LIMITS", reg)
    return reg


# ---------------------------------------------------------------------- the bucket
def test_burst_then_the_rate(registry: RateLimits, fake_time: FakeTime) -> None:
    limiter = registry.limiter("p", "r", rate=10.0, burst=5)
    grants = []
    for _ in range(55):
        limiter.acquire()
        grants.append(fake_time.now)
    assert grants[:5] == [0.0] * 5  # the burst goes at once
    gaps = [b - a for a, b in itertools.pairwise(grants[5:])]
    assert all(g == pytest.approx(0.1) for g in gaps)  # then 10 per second, evenly
    assert grants[-1] == pytest.approx(5.0)  # 55 calls = 5 at once + 50 at 10/s
    assert max_in_window(grants) <= 5 + 10  # at most burst + rate in any second
    stats = limiter.bucket.stats()
    assert (stats.calls, stats.waits) == (55, 50)
    assert stats.wait_seconds == pytest.approx(5.0)
    assert stats.peak_calls_per_second == max_in_window(grants)


def test_burst_one_never_exceeds_the_rate_in_any_second(registry: RateLimits, fake_time: FakeTime) -> None:
    limiter = registry.limiter("p", "r", rate=7.0, burst=1)
    grants = []
    for _ in range(50):
        limiter.acquire()
        grants.append(fake_time.now)
        fake_time.now += 0.01  # the call itself takes a little time
    assert max_in_window(grants) <= 7
    assert limiter.bucket.stats().peak_calls_per_second <= 7


def test_an_idle_bucket_refills_up_to_its_burst_only(registry: RateLimits, fake_time: FakeTime) -> None:
    limiter = registry.limiter("p", "r", rate=2.0, burst=3)
    for _ in range(3):
        limiter.acquire()
    fake_time.now += 100.0  # idle for long: the bucket holds 3 tokens, not 200
    waits = [limiter.acquire() for _ in range(4)]
    assert waits == [0.0, 0.0, 0.0, pytest.approx(0.5)]


def test_threads_share_one_bucket_and_never_get_one_slot_twice() -> None:
    frozen = FrozenTime()
    reg = RateLimits(clock=frozen.clock, sleep=frozen.sleep)
    a = reg.limiter("p", "r", rate=10.0, burst=5)
    b = reg.limiter("p", "r", rate=10.0, burst=5)  # another connection, same (provider, region)
    assert a.bucket is b.bucket
    waits: list[float] = []
    lock = threading.Lock()

    def work(limiter: ratelimit.RateLimiter) -> None:
        for _ in range(25):
            w = limiter.acquire()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=work, args=(a if i % 2 else b,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 200 calls on a frozen clock: 5 free, then one slot every 0.1 s, each slot given once
    assert sorted(waits) == pytest.approx([0.0] * 5 + [i / 10 for i in range(1, 196)])


def test_separate_keys_are_independent(registry: RateLimits) -> None:
    a = registry.limiter("p", "r1", rate=1.0, burst=1)
    b = registry.limiter("p", "r2", rate=1.0, burst=1)
    c = registry.limiter("q", "r1", rate=1.0, burst=1)
    assert len({id(a.bucket), id(b.bucket), id(c.bucket)}) == 3
    a.acquire()
    assert a.acquire() == pytest.approx(1.0)  # r1 is used up ...
    assert b.acquire() == 0.0 and c.acquire() == 0.0  # ... r2 and the other provider are not


def test_unlimited_counts_calls_but_never_waits(registry: RateLimits) -> None:
    limiter = registry.limiter("p", "r", rate=0.0, burst=1)
    assert all(limiter.acquire() == 0.0 for _ in range(1000))
    stats = limiter.bucket.stats()
    assert (stats.calls, stats.waits, stats.configured_rate) == (1000, 0, 0.0)
    assert stats.peak_calls_per_second == 1000  # all at one instant of the fake clock


def test_a_wait_past_the_bound_fails_instead_of_queueing_forever(fake_time: FakeTime) -> None:
    reg = RateLimits(clock=fake_time.clock, sleep=fake_time.sleep, max_wait=2.0)
    frozen = reg.limiter("p", "r", rate=1.0, burst=1)
    frozen.bucket._sleep = lambda s: None  # keep the clock still: reservations pile up
    for _ in range(3):
        frozen.acquire()
    with pytest.raises(CloudError) as err:
        frozen.acquire()
    assert err.value.code == "RateLimitWait" and not err.value.retryable
    assert frozen.bucket.stats().calls == 3  # the refused call took no slot


# ---------------------------------------------------------------------- several connections
def test_the_strictest_live_connection_wins(registry: RateLimits) -> None:
    loose = registry.limiter("p", "r", rate=10.0, burst=10)
    bucket = loose.bucket
    strict = registry.limiter("p", "r", rate=2.0, burst=3)
    free = registry.limiter("p", "r", rate=0.0, burst=1)  # "unlimited" imposes nothing on others
    s = bucket.stats()
    assert (s.configured_rate, s.burst, s.connections) == (2.0, 3, 3)
    del strict
    gc.collect()
    loose.acquire()  # the next operation applies the ended claim
    s = bucket.stats()
    assert (s.configured_rate, s.burst, s.connections) == (10.0, 10, 2)
    loose.close()
    assert bucket.stats().configured_rate == 0.0  # only the unlimited connection is left
    free.close()


def test_the_registry_forgets_a_bucket_nobody_uses(registry: RateLimits) -> None:
    limiter = registry.limiter("p", "gone", rate=1.0, burst=1)
    assert registry.bucket("p", "gone") is limiter.bucket
    del limiter
    gc.collect()
    assert registry.bucket("p", "gone") is None
    assert [s.region for s in registry.stats("p")] == []


# ---------------------------------------------------------------------- adaptation
def test_throttling_halves_the_rate_once_per_cooldown_then_it_recovers(
    registry: RateLimits, fake_time: FakeTime
) -> None:
    limiter = registry.limiter("p", "r", rate=20.0, burst=20)
    bucket = limiter.bucket
    limiter.throttled()
    limiter.throttled()  # the answer to another call already in flight: the same episode
    assert bucket.rate == pytest.approx(10.0) and bucket.stats().throttles == 2
    assert limiter.acquire() == pytest.approx(0.1)  # the burst was drained: paced at once
    fake_time.now += 2.0
    limiter.throttled()  # a new episode
    assert bucket.rate == pytest.approx(5.0)
    for _ in range(40):  # successes over time bring it back, 5 % of 20/s per second
        fake_time.now += 1.0
        limiter.succeeded()
    assert bucket.rate == pytest.approx(20.0)
    for _ in range(20):
        fake_time.now += 2.0
        limiter.throttled()
    assert bucket.rate == pytest.approx(20.0 * ratelimit.FLOOR)  # never below the floor


def test_a_new_connection_does_not_undo_a_slow_down(registry: RateLimits) -> None:
    first = registry.limiter("p", "r", rate=20.0, burst=20)
    first.throttled()
    second = registry.limiter("p", "r", rate=20.0, burst=20)
    assert second.bucket.rate == pytest.approx(10.0)


# ---------------------------------------------------------------------- through the retry policy
def throttle(code: str = "Throttled") -> CloudError:
    return CloudError("p", code, "slow down", retryable=True, throttled=True)


def test_retries_take_tokens_and_tell_the_bucket(registry: RateLimits, fake_time: FakeTime) -> None:
    limiter = registry.limiter("p", "r", rate=4.0, burst=1)
    policy = RetryPolicy(attempts=5, base=0.01, sleep=fake_time.sleep, limiter=limiter)
    answers: list[Any] = [throttle(), throttle(), "ok"]
    sent: list[float] = []

    def call() -> str:
        sent.append(fake_time.now)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    assert policy.run(call, idempotent=False) == "ok"
    stats = limiter.bucket.stats()
    assert stats.calls == 3 and stats.throttles == 2  # every attempt took a token
    assert 2.0 <= stats.rate < 4.0  # one episode: halved once (then recovering a little)
    assert all(b - a >= 0.5 - 1e-9 for a, b in itertools.pairwise(sent))  # paced at the slowed rate


def test_a_refused_call_is_not_retried_but_still_took_its_token(registry: RateLimits, fake_time: FakeTime) -> None:
    limiter = registry.limiter("p", "r", rate=4.0, burst=1)
    policy = RetryPolicy(sleep=fake_time.sleep, limiter=limiter)

    def call() -> None:
        raise CloudError("p", "InvalidParameter", "no")

    with pytest.raises(CloudError):
        policy.run(call, idempotent=True)
    assert limiter.bucket.stats().calls == 1 and limiter.bucket.rate == 4.0


class ThrottlingCloud:
    """A fake cloud that refuses (throttles) any call above ``limit`` in the trailing second."""

    def __init__(self, time: FakeTime, limit: int) -> None:
        self.time = time
        self.limit = limit
        self.accepted: deque[float] = deque()
        self.accepted_at: list[float] = []
        self.refused = 0

    def call(self) -> str:
        now = self.time.now
        while self.accepted and self.accepted[0] <= now - 1.0:
            self.accepted.popleft()
        self.time.now += 0.005  # the call's own latency
        if len(self.accepted) >= self.limit:
            self.refused += 1
            raise throttle("RequestLimitExceeded")
        self.accepted.append(now)
        self.accepted_at.append(now)
        return "ok"


def test_a_cloud_that_throttles_above_n_per_second_is_converged_on_without_a_retry_storm(
    registry: RateLimits, fake_time: FakeTime
) -> None:
    n = 10
    cloud = ThrottlingCloud(fake_time, limit=n)
    limiter = registry.limiter("p", "r", rate=4.0 * n, burst=4 * n)  # configured 4x too high
    policy = RetryPolicy(attempts=8, base=0.05, budget=30, sleep=fake_time.sleep, limiter=limiter)
    done = 0
    while fake_time.now < 120.0:
        policy.run(cloud.call, idempotent=True)
        done += 1
    attempts = done + cloud.refused
    assert cloud.refused <= 0.1 * attempts  # few refusals: no storm
    late = [t for t in cloud.accepted_at if t >= 60.0]
    assert len(late) / 60.0 >= 0.4 * n  # and no collapse: it works at a good share of the limit
    assert limiter.bucket.stats().rate < 4.0 * n  # the bucket learnt the cloud's limit


# ---------------------------------------------------------------------- options
@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), True, False, "5", [1], {"a": 1}])
def test_bad_rate_limits_are_refused(value: Any) -> None:
    with pytest.raises(InvalidRequest) as err:
        DriverOptions.parse("p", {"rate_limit": value})
    assert err.value.field == "options.rate_limit"


@pytest.mark.parametrize("value", [0, -1, True, "5", 2.0, 2.5])
def test_bad_rate_bursts_are_refused(value: Any) -> None:
    with pytest.raises(InvalidRequest) as err:
        DriverOptions.parse("p", {"rate_limit": 5, "rate_burst": value})
    assert err.value.field == "options.rate_burst"


def test_the_option_rules() -> None:
    assert MockOptions.parse("mock", {}).rate() == (0.0, 1)  # the mock's default: unlimited
    assert MockOptions.parse("mock", {"rate_limit": 0}).rate() == (0.0, 1)  # 0 = unlimited
    assert MockOptions.parse("mock", {"rate_limit": 50}).rate() == (50.0, 1)  # even pacing
    assert MockOptions.parse("mock", {"rate_limit": 50, "rate_burst": 10}).rate() == (50.0, 10)

    class Cloudy(DriverOptions):
        RATE_DEFAULT = ratelimit.RateDefault(20.0, 100, "https://example.invalid/limits")

    assert Cloudy.parse("c", {}).rate() == (20.0, 100)  # absent: the driver's documented default
    assert Cloudy.parse("c", {"rate_limit": None}).rate() == (20.0, 100)
    assert Cloudy.parse("c", {"rate_limit": 0}).rate() == (0.0, 1)
    assert Cloudy.parse("c", {"rate_burst": 7}).rate() == (20.0, 7)


def test_every_driver_declares_a_documented_default() -> None:
    from mcinfra.drivers.alibaba.options import AlibabaOptions
    from mcinfra.drivers.aws.options import AwsOptions
    from mcinfra.drivers.azure.options import AzureOptions
    from mcinfra.drivers.gcp.options import GcpOptions
    from mcinfra.drivers.openstack.options import OpenStackOptions
    from mcinfra.drivers.tencent.options import TencentOptions
    from mcinfra.drivers.twin.options import TwinOptions

    for cls in (AlibabaOptions, AwsOptions, AzureOptions, GcpOptions, OpenStackOptions, TencentOptions):
        assert cls.RATE_DEFAULT.rate > 0 and cls.RATE_DEFAULT.burst >= 1 and cls.RATE_DEFAULT.source
    assert TwinOptions.RATE_DEFAULT.rate == 0  # a local cloud: no quota
    with pytest.raises(InvalidRequest) as err:
        TwinOptions.parse("twin", {"rate_limit": 5})
    assert err.value.field == "options.rate_limit"


# ---------------------------------------------------------------------- the mock, end to end
@pytest.fixture
def infra() -> Iterator[mcinfra.Infra]:
    infra = mcinfra.Infra("sqlite:///:memory:")
    yield infra
    infra.close()


def test_the_mock_never_exceeds_its_rate_limit_measured_at_the_mock(
    infra: mcinfra.Infra, registry: RateLimits, fake_time: FakeTime, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mcinfra.drivers.mock import state

    seen: list[tuple[str, float]] = []
    real_tx = state.MemoryCloud.tx

    def tx(self: Any, write: bool = False) -> Any:
        region = next(r for (_, r), cloud in state._memory.items() if cloud is self)
        seen.append((region, fake_time.now))  # when the call reaches the mock cloud
        return real_tx(self, write)

    monkeypatch.setattr(state.MemoryCloud, "tx", tx)
    cid = "ratelimit-test"
    for name, region in (("m1", "mercury"), ("m2", "mercury"), ("v1", "venus")):
        infra.regions.add(f"r-{name}", provider="mock", region=region)
        infra.connections.add(name, provider="mock", region=f"r-{name}",
                              options={"rate_limit": 5, "cloud_id": cid})
    m1, m2, v1 = (infra.connect(n) for n in ("m1", "m2", "v1"))
    for i in range(15):  # two connections on mercury share its bucket, venus has its own
        m1.keypairs.create(f"k{i}")
        m2.keypairs.create(f"j{i}")
        v1.keypairs.create(f"k{i}")
    mercury = [t for r, t in seen if r == "mercury"]
    venus = [t for r, t in seen if r == "venus"]
    assert len(mercury) >= 30 and len(venus) >= 15
    assert max_in_window(mercury) <= 5 and max_in_window(venus) <= 5
    stats = {s.region: s for s in rate_limits("mock")}
    assert stats["mercury"].connections == 2 and stats["mercury"].peak_calls_per_second <= 5
    assert stats["mercury"].calls == len(mercury) and stats["venus"].calls == len(venus)
    state.reset(cloud_id=cid)


def test_drivers_built_on_the_kit_share_their_region_bucket(registry: RateLimits) -> None:
    pytest.importorskip("boto3")
    from mcinfra.core.handlers import SessionInfo
    from mcinfra.drivers.aws.client import AwsClient
    from mcinfra.drivers.aws.options import AwsOptions

    def client(region: str, **options: Any) -> AwsClient:
        info = SessionInfo(name="a", provider="aws", credentials={"aws_access_key_id": "AKIDEXAMPLE",
                           "aws_secret_access_key": "x"}, region=region, zone=None, options=options)
        return AwsClient(info, AwsOptions.parse("aws", options))

    a, b, c = client("us-east-2"), client("us-east-2", rate_limit=5), client("eu-west-1")
    assert a.retry.limiter is not None and b.retry.limiter is not None and c.retry.limiter is not None
    assert a.retry.limiter.bucket is b.retry.limiter.bucket is not c.retry.limiter.bucket
    east = a.retry.limiter.bucket.stats()
    assert (east.configured_rate, east.burst) == (5.0, 1)  # the stricter connection wins
    west = c.retry.limiter.bucket.stats()
    assert (west.configured_rate, west.burst) == (AwsOptions.RATE_DEFAULT.rate, AwsOptions.RATE_DEFAULT.burst)
