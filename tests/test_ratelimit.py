"""Issue 16: SMTP_RATE_LIMIT and SMTP_DAILY_LIMIT, per process and shared by workers through a real Redis."""
import asyncio
import time
from pathlib import Path

import pytest
import redis

from mailtpl import Environment
from mailtpl.smtp import AsyncMailer, Mailer, SmtpConfig, SmtpDailyLimitError
from mailtpl.smtp.ratelimit import RateLimiter, RedisRateLimiter
from tests.redis_server import needs_redis, redis_server
from tests.smtp_servers import smtp_server

ROOT = Path(__file__).resolve().parents[1]


def test_sends_are_booked_one_interval_apart():
    clock = [100.0]
    limiter = RateLimiter(per_second=50, clock=lambda: clock[0])
    assert [round(limiter.reserve(), 9) for _ in range(4)] == [0.0, 0.02, 0.04, 0.06]
    clock[0] += 1.0  # idle for a second: no credit saved up, the next send goes at once, then 1/rate apart
    assert [round(limiter.reserve(), 9) for _ in range(2)] == [0.0, 0.02]


def test_daily_cap_raises_with_the_time_to_the_next_day():
    limiter = RateLimiter(daily=3)
    assert [limiter.reserve() for _ in range(3)] == [0.0, 0.0, 0.0]
    with pytest.raises(SmtpDailyLimitError) as info:
        limiter.reserve()
    assert 0 < info.value.retry_after <= 86400 and "SMTP_DAILY_LIMIT=3" in str(info.value)
    assert "SMTP_DAILY_LIMIT" in info.value.fix


def test_mailers_of_a_process_share_the_daily_limit_and_the_spacing(tmp_path):
    env = Environment(ROOT / "templates", base_url="https://fb.example.org")
    with smtp_server(tmp_path) as server:
        config = SmtpConfig.from_env(server.env(SMTP_DAILY_LIMIT="3", SMTP_RATE_LIMIT="5"), dotenv=None)
        limiter = RateLimiter.from_config(config)
        limiter.clock = lambda: 0.0  # frozen: every booking's wait is exact, whatever the machine's load
        waits = []
        real_reserve = limiter.reserve
        limiter.reserve = lambda: waits.append(real_reserve()) or waits[-1]
        with Mailer(env, config) as m:
            assert m.limiter is limiter
            m.send_verification("a@example.com", "1")
            m.send_verification("b@example.com", "2")

        async def run():
            async with AsyncMailer(env, config) as m:
                assert m.limiter is limiter
                return await asyncio.gather(*(m.send_verification(f"async{i}@example.com", str(i)) for i in range(2)),
                                            return_exceptions=True)
        results = asyncio.run(run())
    assert [round(w, 9) for w in waits] == [0.0, 0.2, 0.4]  # booked 1/5 s apart, across both mailers
    assert sum(isinstance(r, SmtpDailyLimitError) for r in results) == 1  # the Mailer's two count: 3 a day
    assert len(server.recorder.messages) == 3


def test_real_sends_take_at_least_the_booked_spacing(tmp_path):
    """Real clock: load can only lengthen the run, so only a lower bound is asserted."""
    env = Environment(ROOT / "templates", base_url="https://fb.example.org")
    with smtp_server(tmp_path) as server:
        config = SmtpConfig.from_env(server.env(SMTP_RATE_LIMIT="20"), dotenv=None)
        with Mailer(env, config, limiter=RateLimiter(per_second=20)) as m:
            started = time.monotonic()  # before the first booking: the three later sends start 1/20 s apart
            for i in range(4):
                m.send_verification(f"{i}@example.com", str(i))
            elapsed = time.monotonic() - started
    assert elapsed >= 3 / 20
    assert len(server.recorder.messages) == 4


@needs_redis
def test_redis_limiter_is_shared_by_workers(tmp_path):
    with redis_server(tmp_path) as url:
        client = redis.Redis.from_url(url)
        workers = [RedisRateLimiter(redis.Redis.from_url(url), per_second=10, daily=5) for _ in range(2)]
        seconds, micros = client.time()
        booked_from = seconds + micros / 1e6 + 100  # a slot far ahead: bookings chain from it, whatever the load
        client.set("mailtpl:rate:next", f"{booked_from:.6f}")
        waits = [workers[i % 2].reserve() for i in range(5)]  # two workers take turns
        assert all(99 < w <= 100 + 0.1 * i for i, w in enumerate(waits))
        assert float(client.get("mailtpl:rate:next")) == pytest.approx(booked_from + 5 * 0.1, abs=1e-5)
        with pytest.raises(SmtpDailyLimitError):
            workers[1].reserve()  # the cap counts both workers' sends
        (day_key,) = client.keys("mailtpl:rate:day:*")
        assert int(client.get(day_key)) == 5 and 0 < client.ttl(day_key) <= 86400 + 3600
