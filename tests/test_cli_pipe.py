"""A command whose reader goes away (`mailtpl lint --rules | head -1`) stops quietly."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_closed_pipe_ends_the_command_without_an_error_message():
    proc = subprocess.Popen([sys.executable, "-m", "mailtpl", "lint", "--rules"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # closed before the interpreter has started: the first write gets EPIPE
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert stderr == ""
