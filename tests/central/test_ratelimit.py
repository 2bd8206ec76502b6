"""The per-station token bucket, driven by an injected clock."""

from __future__ import annotations

import threading

import pytest

from central.ratelimit import RateLimiter


class Clock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_new_key_may_send_its_whole_burst_at_once(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=60, burst=5, clock=clock)

    assert [limiter.acquire("line-1") for _ in range(5)] == [0.0] * 5
    assert limiter.acquire("line-1") > 0


def test_the_wait_is_the_time_until_the_next_token(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=15, burst=1, clock=clock)  # one token every 4 s
    assert limiter.acquire("line-1") == 0.0

    assert limiter.acquire("line-1") == 4.0
    clock.advance(1.0)
    assert limiter.acquire("line-1") == 3.0
    clock.advance(2.5)
    assert limiter.acquire("line-1") == 0.5
    clock.advance(0.5)  # exactly when the wait said
    assert limiter.acquire("line-1") == 0.0
    assert limiter.acquire("line-1") == 4.0


def test_refused_requests_do_not_cost_tokens(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    limiter.acquire("line-1")
    for _ in range(100):
        assert limiter.acquire("line-1") > 0

    clock.advance(1.0)
    assert limiter.acquire("line-1") == 0.0


def test_tokens_refill_at_the_rate_per_minute(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=120, burst=10, clock=clock)  # two a second
    for _ in range(10):
        limiter.acquire("line-1")

    clock.advance(2.0)
    granted = 0
    while limiter.acquire("line-1") == 0.0:
        granted += 1
    assert granted == 4


def test_the_bucket_never_holds_more_than_the_burst(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=600, burst=3, clock=clock)
    limiter.acquire("line-1")

    clock.advance(3600.0)  # an hour idle
    assert [limiter.acquire("line-1") == 0.0 for _ in range(4)] == [True, True, True, False]


def test_keys_have_separate_buckets(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=1, burst=2, clock=clock)
    assert limiter.acquire("line-1") == limiter.acquire("line-1") == 0.0
    assert limiter.acquire("line-1") == pytest.approx(60.0)

    assert limiter.acquire("line-2") == 0.0
    assert limiter.acquire("line-2") == 0.0
    assert limiter.acquire("line-2") > 0
    clock.advance(30.0)
    assert limiter.acquire("line-1") == pytest.approx(30.0)


def test_concurrent_requests_never_exceed_the_burst(clock: Clock) -> None:
    limiter = RateLimiter(per_minute=1, burst=50, clock=clock)
    granted: list[bool] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            ok = limiter.acquire("line-1") == 0.0
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(granted) == 200
    assert sum(granted) == 50


def test_the_default_clock_is_monotonic() -> None:
    limiter = RateLimiter(per_minute=60, burst=1)
    assert limiter.acquire("line-1") == 0.0
    assert 0 < limiter.acquire("line-1") <= 1.0
