"""Sending from Celery workers (``pip install 'mailtpl[celery]'``), on a Redis broker.

    from mailtpl.celery import send
    send.delay("verification", "ada@example.com", {"code": "482913"})

    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 SMTP_HOST=... celery -A mailtpl.celery worker

The task renders email ``name`` for ``to`` with ``data`` and sends it.
Transient failures (4xx, a connection lost before the server's 250 to DATA, a
server that cannot be reached) are retried with Celery's exponential backoff
and jitter; permanent ones (5xx, bad settings, template errors) fail the task
at once. Recipients the server deferred (4xx) while others accepted the
message get a task of their own, retried the same way (its id is the result's
``follow_up``). Every send has an idempotency key (given, or derived from name,
recipients and data): the key is recorded in the broker's Redis once the
server answered 250 to DATA, and a lock on it is held while sending, so a
retried, redelivered or duplicated task never sends twice. The Message-ID is
derived from the key, so receivers can tell duplicates apart too.
SMTP_RATE_LIMIT and SMTP_DAILY_LIMIT hold for all workers together (in Redis).
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import asdict

import redis
from celery import Celery, Task

from .environment import Environment
from .smtp import Mailer, SmtpConfig, SmtpConnectError, SmtpDailyLimitError, SmtpTransientError
from .smtp.ratelimit import RedisRateLimiter

SENT_TTL = 7 * 24 * 3600  # how long a key is remembered as sent: longer than any retry schedule
LOCK_TTL = 600  # a worker that dies while sending holds the key this long at most
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def idempotency_key(name: str, to: str | Iterable[str], data: Mapping | None) -> str:
    """The same email to the same recipients with the same data: the same key."""
    recipients = sorted([to] if isinstance(to, str) else to)
    canonical = json.dumps([name, recipients, data or {}], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def message_id_for(key: str, sender: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.mailtpl@{sender.rsplit('@', 1)[1]}>"


class _Worker:
    """What one worker process keeps: its Redis client and its Mailer (created after the fork, on first use)."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self.pid = 0

    def get(self) -> _Worker:
        if self.pid != os.getpid():
            url = os.environ.get("MAILTPL_REDIS_URL") or self.app.conf.broker_url or ""
            if not url.startswith(("redis://", "rediss://", "unix://")):
                raise ValueError(f"mailtpl.celery keeps idempotency keys in Redis: the broker is {url!r}; "
                                 "use a Redis broker or set MAILTPL_REDIS_URL")
            self.redis = redis.Redis.from_url(url)
            self.unlock = self.redis.register_script(_UNLOCK)  # only the lock this worker holds
            config = SmtpConfig.from_env()
            limiter = (RedisRateLimiter(self.redis, config.rate_limit, config.daily_limit)
                       if config.rate_limit or config.daily_limit else None)
            env = Environment(os.environ.get("MAILTPL_TEMPLATES", "templates"))
            # One attempt per task run: Celery does the retrying, with backoff and jitter, without holding a worker.
            self.mailer = Mailer(env, config, pool_size=1, attempts=1, limiter=limiter)
            self.pid = os.getpid()
        return self


def register(app: Celery, *, retry_backoff: int = 2, retry_backoff_max: int = 600, max_retries: int = 12) -> Task:
    """Add the task ``mailtpl.send`` to ``app`` and return it."""
    worker = _Worker(app)

    @app.task(bind=True, name="mailtpl.send", acks_late=True, reject_on_worker_lost=True,
              autoretry_for=(SmtpTransientError, SmtpConnectError), retry_backoff=retry_backoff,
              retry_backoff_max=retry_backoff_max, retry_jitter=True, max_retries=max_retries)
    def send(self: Task, name: str, to: str | list[str], data: dict | None = None, *, key: str | None = None,
             reply_to: str | list[str] | None = None) -> dict:
        """Render and send email ``name``; returns the SendResult as a dict (``duplicate``: sent before)."""
        state = worker.get()
        key = key or idempotency_key(name, to, data)
        sent_key, lock_key, token = f"mailtpl:sent:{key}", f"mailtpl:sending:{key}", uuid.uuid4().hex
        if not state.redis.set(lock_key, token, nx=True, ex=LOCK_TTL):
            raise self.retry(countdown=1 + self.request.retries % 4, max_retries=None)  # another worker sends it
        try:
            if done := state.redis.get(sent_key):
                return {**json.loads(done), "duplicate": True}
            try:
                result = state.mailer.send(name, to, data, reply_to=reply_to,
                                           message_id=message_id_for(key, state.mailer.config.sender))
            except SmtpDailyLimitError as exc:
                raise self.retry(exc=exc, countdown=exc.retry_after, max_retries=None) from None
            record = {**asdict(result), "key": key}
            deferred = sorted(address for address, (code, _) in result.refused.items() if 400 <= code < 500)
            if deferred:  # the others have it; these get a task of their own, retried like any (queued first,
                # so a worker lost before the record below sends nothing twice: that task's key is fixed)
                record["follow_up"] = self.apply_async(
                    (name, deferred, data), {"key": f"{key}:deferred:{idempotency_key(name, deferred, data)}",
                                             "reply_to": reply_to}, countdown=retry_backoff).id
            state.redis.set(sent_key, json.dumps(record), ex=SENT_TTL)  # after the server's 250 to DATA
            return {**record, "duplicate": False}
        finally:
            state.unlock(keys=[lock_key], args=[token])

    return send


app = Celery("mailtpl")  # broker and result backend from CELERY_BROKER_URL / CELERY_RESULT_BACKEND
# A task waiting for the next UTC day (SMTP_DAILY_LIMIT) stays unacknowledged (acks_late) up to 24 h: Redis must
# not hand it to another worker meanwhile (its default visibility timeout is 1 h).
app.conf.broker_transport_options = {"visibility_timeout": 25 * 3600}
send = register(app)
