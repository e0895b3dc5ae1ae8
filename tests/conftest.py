import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest_plugins = ["germinate.testing"]

REPO = Path(__file__).resolve().parents[1]
DATASETS = Path(os.environ.get("GERMINATE_DATASETS", REPO.parent / "shared" / "datasets"))
GERMINATE = [sys.executable, "-m", "germinate"]


@pytest.fixture(scope="session")
def datasets() -> Path:
    if not (DATASETS / "trec" / "task.json").exists():
        message = f"benchmark datasets not found at {DATASETS} (set GERMINATE_DATASETS)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI has shared/ beside the clone: a skip there would hide a break
        pytest.skip(message)
    return DATASETS


def germinate(*args, env=None, cwd=None, check=None, timeout=600) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run(
        GERMINATE + [str(a) for a in args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=timeout
    )
    if check is not None:
        assert result.returncode == check, (result.stdout, result.stderr)
    return result


@contextlib.contextmanager
def germinate_serving(project, *args, env=None, timeout=300):
    """``germinate serve PROJECT ARGS`` on a free loopback port, yielded once /health answers;
    stopped on exit. ``env`` replaces the environment (None: this one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        GERMINATE + ["serve", str(project), "--port", str(port), *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        yield port
    finally:
        process.terminate()
        process.wait(30)
