"""Start the loopback server, answering with tests/mindgym_script.py, in its own process (so the
benchmark measures the client alone)."""

import json
import subprocess
import sys
import urllib.request
from contextlib import contextmanager
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "mindgym_script.py"


@contextmanager
def served(latency: float = 0.2, *extra: str):
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--latency", str(latency), *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        yield url
    finally:
        proc.kill()
        proc.wait()


def server_stats(url: str) -> dict:
    with urllib.request.urlopen(url + "/_stats") as r:
        return json.loads(r.read())
