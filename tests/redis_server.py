"""A real redis-server (Debian's /usr/bin/redis-server) on a free port of 127.0.0.1, with its files in a temp dir."""
import shutil
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from tests.smtp_servers import free_port

REDIS = shutil.which("redis-server")
needs_redis = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed (apt-get install redis-server)")


@contextmanager
def redis_server(folder: Path):
    """Start redis-server, yield its URL, stop it."""
    port = free_port()
    process = subprocess.Popen([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
                                "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)
