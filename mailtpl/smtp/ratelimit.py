"""SMTP_RATE_LIMIT (messages per second) and SMTP_DAILY_LIMIT (messages per UTC day).

A limiter's ``reserve()`` books the next send and returns how long to wait
before it (the mailer sleeps, or awaits, that long); past the daily cap it
raises :class:`SmtpDailyLimitError`. Sends are spaced evenly, 1/rate apart
(a GCRA without burst), so a provider's per-second limit is never exceeded.
``RateLimiter`` counts in this process; ``RedisRateLimiter`` (used by
``mailtpl.celery``) counts in Redis, for every worker together. Each attempt
counts, retries too: the provider counts them as well.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from .errors import SmtpDailyLimitError

if TYPE_CHECKING:
    from .config import SmtpConfig


class Limiter(Protocol):
    def reserve(self) -> float: ...


def _utc_day() -> tuple[str, float]:
    """Today's UTC date and the seconds left in it."""
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return now.date().isoformat(), (midnight - now).total_seconds()


_SHARED: dict[tuple, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def _over(daily: int, retry_after: float) -> SmtpDailyLimitError:
    return SmtpDailyLimitError(f"SMTP_DAILY_LIMIT={daily} messages already sent today (UTC)", retry_after)


class RateLimiter:
    """Per process, shared by its threads and tasks."""

    def __init__(self, per_second: float | None = None, daily: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1 / per_second if per_second else 0.0
        self.daily = daily
        self.clock = clock
        self._lock = threading.Lock()
        self._next = 0.0  # monotonic time of the next free slot
        self._day = ""
        self._count = 0

    @classmethod
    def from_config(cls, config: SmtpConfig) -> RateLimiter | None:
        """The process's limiter for this server and login: all its Mailers and AsyncMailers share it."""
        if not (config.rate_limit or config.daily_limit):
            return None
        key = (config.host, config.port, config.username, config.rate_limit, config.daily_limit)
        with _SHARED_LOCK:
            if key not in _SHARED:
                _SHARED[key] = cls(config.rate_limit, config.daily_limit)
            return _SHARED[key]

    def reserve(self) -> float:
        with self._lock:
            if self.daily:
                day, left = _utc_day()
                if day != self._day:
                    self._day, self._count = day, 0
                if self._count >= self.daily:
                    raise _over(self.daily, left)
                self._count += 1
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
            return start - now


# KEYS: next free slot, today's count. ARGV: interval, daily cap (0: none), seconds left today.
# Returns the wait in seconds as a string, or -1 when the cap is reached. Redis's clock: one for all workers.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, daily = tonumber(ARGV[1]), tonumber(ARGV[2])
if daily > 0 then
  if tonumber(redis.call('GET', KEYS[2]) or '0') >= daily then return '-1' end
  redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], math.ceil(tonumber(ARGV[3])) + 3600)
end
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
redis.call('SET', KEYS[1], string.format('%.6f', start + interval), 'EX', 3600)
return string.format('%.6f', start - now)
"""


class RedisRateLimiter:
    """Shared by every process that uses the same Redis and ``prefix`` (all Celery workers of a deployment)."""

    def __init__(self, redis, per_second: float | None = None, daily: int | None = None,
                 prefix: str = "mailtpl:rate") -> None:
        self.interval = 1 / per_second if per_second else 0.0
        self.daily = daily
        self.prefix = prefix
        self._script = redis.register_script(_RESERVE)

    def reserve(self) -> float:
        day, left = _utc_day()
        wait = float(self._script(keys=[f"{self.prefix}:next", f"{self.prefix}:day:{day}"],
                                  args=[repr(self.interval), self.daily or 0, repr(left)]))
        if wait < 0:
            raise _over(self.daily, left)
        return wait
