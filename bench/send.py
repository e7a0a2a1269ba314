"""Messages per second to a local SMTP sink in its own process: Mailer (threads), AsyncMailer (asyncio),
Celery (4 worker processes on a Redis broker), smtplib with a connection per message, and nodemailer
with pool: true where node has it.

    python bench/send.py [N]

nodemailer is used when `node` can load it, e.g. after `npm install --prefix bench nodemailer`;
Celery when redis-server and celery are installed. Targets: Mailer >= nodemailer (issue 4),
AsyncMailer >= 2x nodemailer (issue 16), in the same run.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# bench/email.py would shadow the stdlib's email package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import smtplib  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from bench._timing import table  # noqa: E402
from mailtpl import Environment  # noqa: E402
from mailtpl.message import compose  # noqa: E402
from mailtpl.smtp import AsyncMailer, Mailer, SmtpConfig  # noqa: E402

CONNECTIONS = 4


SINK = """
import sys, time
from aiosmtpd.controller import Controller
class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"
controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def async_rate(env: Environment, config: SmtpConfig, count: int) -> float:
    async def run() -> float:
        async with AsyncMailer(env, config, pool_size=CONNECTIONS) as mailer:
            start = time.perf_counter()
            await asyncio.gather(*(mailer.send_verification(f"user{i}@example.com", f"{i:06d}")
                                   for i in range(count)))
            return count / (time.perf_counter() - start)
    return asyncio.run(run())


def celery_rate(port: int, count: int) -> float | None:
    """Tasks per second through 4 worker processes, from the first enqueue to the last result."""
    redis_server = shutil.which("redis-server")
    try:
        from mailtpl.celery import app, send
    except ImportError:
        return None
    if redis_server is None:
        return None
    import tempfile

    redis_port = free_port()
    url = f"redis://127.0.0.1:{redis_port}/0"
    with tempfile.TemporaryDirectory() as folder:
        redis = subprocess.Popen([redis_server, "--port", str(redis_port), "--bind", "127.0.0.1", "--dir", folder,
                                  "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
        env = dict(os.environ, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url, SMTP_HOST="127.0.0.1",
                   SMTP_PORT=str(port), SMTP_SENDER="no-reply@fb.example.org",
                   MAILTPL_TEMPLATES=str(HERE.parent / "templates"), ADMIN_WEB_URL="https://feedback.example.com",
                   PYTHONPATH=str(HERE.parent))
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "mailtpl.celery", "worker", "--concurrency",
                                   str(CONNECTIONS), "--loglevel", "WARNING", "--without-gossip", "--without-mingle",
                                   "--without-heartbeat"], env=env, cwd=folder, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        app.conf.update(broker_url=url, result_backend=url)
        try:
            for i in range(CONNECTIONS * 2):  # every worker process up and its Mailer connected
                send.delay("verification", f"warmup{i}@example.com", {"code": str(i)}).get(timeout=60)
            start = time.perf_counter()
            tasks = [send.delay("verification", f"user{i}@example.com", {"code": f"{i:06d}"}) for i in range(count)]
            for task in tasks:
                task.get(timeout=120)
            return count / (time.perf_counter() - start)
        finally:
            worker.terminate()
            worker.wait(30)
            redis.terminate()
            redis.wait(10)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    port = free_port()
    # The sink runs in its own process so that it does not share a GIL with the senders.
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert sink.stdout.readline().strip() == "ready"
    try:
        env = Environment(HERE.parent / "templates", base_url="https://feedback.example.com")
        config = SmtpConfig.from_env({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port),
                                      "SMTP_SENDER": "no-reply@fb.example.org"}, dotenv=None)
        env.render("verification", {"code": "0"})  # compile once, outside every measurement
        rows = []

        with Mailer(env, config, pool_size=CONNECTIONS) as mailer:
            start = time.perf_counter()
            with ThreadPoolExecutor(CONNECTIONS) as workers:
                list(workers.map(lambda i: mailer.send_verification(f"user{i}@example.com", f"{i:06d}"),
                                 range(count)))
            ours = count / (time.perf_counter() - start)
        rows.append([f"mailtpl Mailer (render + send, pool of {CONNECTIONS}, {CONNECTIONS} threads)", ours])
        rows.append([f"mailtpl AsyncMailer (render + send, pool of {CONNECTIONS}, {count} tasks)",
                     async_rate(env, config, count)])
        celery = celery_rate(port, count)
        if celery is not None:
            rows.append([f"mailtpl.celery ({CONNECTIONS} worker processes, Redis broker, idempotency keys)", celery])

        start = time.perf_counter()
        for i in range(count):
            composed = compose(env.render("verification", {"code": f"{i:06d}"}), to=f"user{i}@example.com",
                               sender=config.sender)
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                smtp.sendmail(config.sender, composed.recipients, composed.wire)
        rows.append(["smtplib, one connection per message", count / (time.perf_counter() - start)])

        node, nodemailer = shutil.which("node"), None
        if node:
            rendered = env.render("verification", {"code": "482913"})
            env_vars = dict(os.environ, NODE_PATH=os.pathsep.join([str(HERE / "node_modules"),
                                                                  os.environ.get("NODE_PATH", "")]))
            proc = subprocess.run([node, str(HERE / "nodemailer_send.js"), str(port), str(count), str(CONNECTIONS)],
                                  input=json.dumps({"html": rendered.html, "text": rendered.text}),
                                  capture_output=True, text=True, env=env_vars, timeout=300)
            if proc.returncode == 0:
                nodemailer = count / float(proc.stdout.strip())
                rows.append([f"nodemailer pool: true, maxConnections {CONNECTIONS} (pre-rendered)", nodemailer])
            else:
                print("nodemailer not measured:", (proc.stderr.strip().splitlines() or ["?"])[-1], file=sys.stderr)
        print(f"{count} messages to an aiosmtpd sink on 127.0.0.1, in its own process")
        reference = nodemailer or rows[0][1]
        print(table(["sender", "messages/s", f"vs {'nodemailer' if nodemailer else 'Mailer'}"],
                    [[name, f"{rate:.0f}", f"{rate / reference:.2f}x"] for name, rate in rows]))
    finally:
        sink.communicate("", timeout=30)


if __name__ == "__main__":
    main()
