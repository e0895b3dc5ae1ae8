"""Shared setup for teacher tests: a project whose teacher points at a loopback server, and a real
`python -m llama_cpp.server` started and stopped by PID."""

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request

import yaml

from germinate.project.load import load_project
from germinate.teachers.base import ChatRequest
from germinate.testing import SAMPLE_CONFIG, write_project


def project_with_teacher(path, teacher, **extra):
    return load_project(write_project(path, config={**SAMPLE_CONFIG, "teacher": teacher, **extra}))


def requests(n, stage="generate", text="hello", **params):
    return [
        ChatRequest(
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": f"{text} {i}"}],
            params,
            sample=i,
            stage=stage,
        )
        for i in range(n)
    ]


def dump(path, data):
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def llama_server(model, *extra, api_key=None):
    """The URL of an OpenAI-compatible llama.cpp server on 127.0.0.1 serving ``model``."""
    import pytest

    port = free_port()
    args = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *extra,
    ] + (["--api_key", api_key] if api_key else [])
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(url + "/v1/models", headers=headers), timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama_cpp.server did not start")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
