import os
import subprocess
import sys
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
