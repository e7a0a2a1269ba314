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
        with Mailer(env, config) as m:
            m.send_verification("a@example.com", "1")
            first = time.monotonic()
            m.send_verification("b@example.com", "2")
            second = time.monotonic()

        async def run():
            async with AsyncMailer(env, config) as m:
                return await asyncio.gather(*(m.send_verification(f"async{i}@example.com", str(i)) for i in range(2)),
                                            return_exceptions=True)
        results = asyncio.run(run())
    assert second - first >= 0.1  # booked 0.2 s apart (5 per second); a transaction takes milliseconds
    assert sum(isinstance(r, SmtpDailyLimitError) for r in results) == 1  # the Mailer's two count: 3 a day
    assert len(server.recorder.messages) == 3


@needs_redis
def test_redis_limiter_is_shared_by_workers(tmp_path):
    with redis_server(tmp_path) as url:
        client = redis.Redis.from_url(url)
        workers = [RedisRateLimiter(redis.Redis.from_url(url), per_second=10, daily=5) for _ in range(2)]
        waits = [workers[i % 2].reserve() for i in range(5)]  # two workers take turns
        assert waits[0] == 0 and all(b - a > 0.09 for a, b in zip(waits, waits[1:]))  # 100 ms slots, booked
        with pytest.raises(SmtpDailyLimitError):
            workers[1].reserve()  # the cap counts both workers' sends
        (day_key,) = client.keys("mailtpl:rate:day:*")
        assert int(client.get(day_key)) == 5 and 0 < client.ttl(day_key) <= 86400 + 3600
