"""Messages per second into the capture inbox, beside the same run into a bare aiosmtpd sink.

    python bench/capture.py [N]

N messages (default 1,000: the inbox's default bound, so none is dropped) of
the rendered verification email, over 4 connections (4 threads with one
smtplib connection each). Each server runs in its own process, started the
way a user would: `python -m mailtpl capture` (in memory, then with a
folder of .eml files) and the aiosmtpd sink of bench/send.py. Beside
messages per second (best of 3 alternating rounds), the CPU time each server
process spent per message (from /proc): a figure the load of a shared
machine moves much less.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# bench/email.py would shadow the stdlib's email package: keep this folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import json  # noqa: E402
import os  # noqa: E402
import smtplib  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from bench._timing import table  # noqa: E402
from bench.send import SINK, free_port  # noqa: E402
from mailtpl import Environment  # noqa: E402
from mailtpl.message import compose  # noqa: E402

CONNECTIONS = 4
ROUNDS = 3
SENDER = "no-reply@fb.example.org"


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far: what the server spends, whatever else runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def blast(port: int, wire: bytes, recipient: str, count: int, server_pid: int) -> tuple[float, float]:
    """(seconds, server CPU seconds) to send ``count`` messages over CONNECTIONS connections, each kept open
    for its share."""
    def connection(share: int) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for _ in range(share):
                smtp.sendmail(SENDER, [recipient], wire)

    shares = [count // CONNECTIONS + (i < count % CONNECTIONS) for i in range(CONNECTIONS)]
    cpu, start = cpu_seconds(server_pid), time.perf_counter()
    with ThreadPoolExecutor(CONNECTIONS) as workers:
        list(workers.map(connection, shares))
    return time.perf_counter() - start, cpu_seconds(server_pid) - cpu


def sink_run(wire: bytes, recipient: str, count: int) -> tuple[float, float]:
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-c", SINK, str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    try:
        assert sink.stdout.readline().strip() == "ready"
        return blast(port, wire, recipient, count, sink.pid)
    finally:
        sink.communicate("", timeout=30)


def capture_run(wire: bytes, recipient: str, count: int, folder: str | None) -> tuple[float, float]:
    smtp_port, http_port = free_port(), free_port()
    args = [sys.executable, "-m", "mailtpl", "capture", "--smtp-port", str(smtp_port), "--port", str(http_port),
            "--max-messages", str(count)] + (["--capture-folder", folder] if folder else [])
    capture = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE.parent)
    try:
        assert capture.stdout.readline().startswith("catching mail on")
        seconds = blast(smtp_port, wire, recipient, count, capture.pid)
        api = f"http://127.0.0.1:{http_port}/api/messages"
        for _ in range(100):  # the API starts after the SMTP listener: wait for it, then count what was caught
            try:
                with urllib.request.urlopen(api, timeout=30) as response:
                    caught = json.load(response)["total"]
                break
            except OSError:
                time.sleep(0.1)
        assert caught == count, f"the inbox holds {caught} of {count} messages"
        return seconds
    finally:
        capture.terminate()
        capture.communicate(timeout=30)


def folder_run(wire: bytes, recipient: str, count: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        return capture_run(wire, recipient, count, folder)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    env = Environment(HERE.parent / "templates", base_url="https://feedback.example.com")
    composed = compose(env.render("verification", {"code": "482913"}), to="ada@example.com", sender=SENDER)
    recipient = composed.recipients[0]
    runs = {"aiosmtpd sink (handle_DATA returns 250)": lambda: sink_run(composed.wire, recipient, count),
            "mailtpl capture (in memory)": lambda: capture_run(composed.wire, recipient, count, None),
            "mailtpl capture --capture-folder (+ .eml files)": lambda: folder_run(composed.wire, recipient, count)}
    best = {name: (float("inf"), float("inf")) for name in runs}
    for _ in range(ROUNDS):  # rounds alternate between the servers, so that load on the machine hits all alike
        for name, run in runs.items():
            seconds, cpu = run()
            best[name] = (min(best[name][0], seconds), min(best[name][1], cpu))
    rows = [[name, count / seconds, cpu / count * 1e6] for name, (seconds, cpu) in best.items()]
    sink, sink_cpu = rows[0][1], rows[0][2]
    print(f"{count} messages of {len(composed.wire)} bytes over {CONNECTIONS} connections, each server in its own "
          f"process on 127.0.0.1; best of {ROUNDS} rounds")
    print(table(["server", "messages/s", "vs the sink", "server CPU/message", "vs the sink"],
                [[name, f"{rate:.0f}", f"{rate / sink:.2f}x", f"{cpu:.0f} us", f"{cpu / sink_cpu:.2f}x"]
                 for name, rate, cpu in rows]))


if __name__ == "__main__":
    main()
