"""gunicorn for the benchmarks that drive a real server (throughput, load): a free loopback port,
start until /health answers, stop. A helper, not a benchmark (no `run()`)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(environment: dict[str, str], port: int, log: Path, *options: str) -> subprocess.Popen:
    """gunicorn serving wsgi:app on 127.0.0.1:`port` with `options` (workers, ...), once /health
    answers 200; its output goes to `log`, which a failure to start quotes."""
    command = [sys.executable, "-m", "gunicorn", *options, "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT)]
    with log.open("w") as output:
        server = subprocess.Popen([*command, "wsgi:app"], cwd=ROOT, env=environment, stdout=output, stderr=output)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    stop(server)
    raise RuntimeError(f"gunicorn did not answer /health within {START_SECONDS} s:\n{log.read_text()}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
