"""Teachers with a real model: the openai backend against `python -m llama_cpp.server` serving the
embedded SmolLM2 on 127.0.0.1 (started and stopped by PID), and the in-process local backend."""

import json

import pytest
from conftest import germinate
from teacher_helpers import llama_server as start_llama_server

from germinate.embedded_models import locate_model
from germinate.testing import SAMPLE_CONFIG, write_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llama_server():
    with start_llama_server(locate_model("smollm2-135m"), "--n_ctx", "2048") as url:
        yield url


def _ask(project, *args):
    result = germinate("ask", project, *args, "--json")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_openai_backend_against_llama_cpp_server(llama_server, tmp_path):
    project = write_project(
        tmp_path / "p",
        config={
            **SAMPLE_CONFIG,
            "teacher": {
                "backend": "openai",
                "model": "smollm2",
                "base_url": llama_server + "/v1",
                "max_tokens": 24,
                "temperature": 0.7,
                "concurrency": 2,
            },
        },
    )
    first = _ask(project, "Write one short product review.", "-n", "3")
    assert len(first) == 3 and all(r["ok"] and r["text"].strip() and not r["cached"] for r in first)
    stats = json.loads(germinate("cache", "stats", project, "--json").stdout)
    assert stats["calls"] == 3
    row = stats["by"][0]
    assert row["model"] == "smollm2" and row["input_tokens"] > 10 and 0 < row["output_tokens"] <= 72
    again = _ask(project, "Write one short product review.", "-n", "3")
    assert [r["text"] for r in again] == [r["text"] for r in first] and all(r["cached"] for r in again)


def test_local_backend_generates_with_the_embedded_model(tmp_path):
    project = write_project(
        tmp_path / "p",
        config={
            **SAMPLE_CONFIG,
            "teacher": {"backend": "local", "model": "smollm2-135m", "max_tokens": 20, "temperature": 0.8},
        },
    )
    first = _ask(project, "Name a colour.", "-n", "2", "--no-cache")
    assert all(r["ok"] and r["text"].strip() for r in first)
    second = _ask(project, "Name a colour.", "-n", "2", "--no-cache")
    assert [r["text"] for r in second] == [r["text"] for r in first]  # each sample index is seeded
