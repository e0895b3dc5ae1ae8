"""A full `germinate run` (generate, validate, train, evaluate, report) of the smart-home example
against a real OpenAI-compatible server (`python -m llama_cpp.server` with the local teacher model)
that demands an API key: the key is sent, and afterwards no file germinate wrote, nor its output,
contains it."""

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import REPO, germinate
from teacher_helpers import llama_server

from germinate.embedded_models import DEFAULT_LOCAL_TEACHER, locate_model

pytestmark = pytest.mark.slow

KEY = "sk-SENTINEL-full-run-7f3a9c"


@pytest.fixture(scope="module")
def keyed_server():
    with llama_server(locate_model(DEFAULT_LOCAL_TEACHER), "--n_ctx", "4096", api_key=KEY) as url:
        yield url


def test_full_run_never_writes_the_api_key(keyed_server, tmp_path):
    with pytest.raises(urllib.error.HTTPError) as refused:  # the server really checks the key
        urllib.request.urlopen(keyed_server + "/v1/models", timeout=5)
    assert refused.value.code == 401
    project = tmp_path / "smart-home"
    shutil.copytree(REPO / "examples" / "smart-home", project)
    config = yaml.safe_load((project / "task.yaml").read_text())
    config.update(
        {
            "teacher": {
                "backend": "openai",
                "model": "qwen-local",
                "base_url": keyed_server + "/v1",
                "api_key_env": "SMART_HOME_TEACHER_KEY",
                "concurrency": 2,
            },
            "generation": {"n": 2, "batch_size": 4},
            # the short system text: the key's path never goes near the student's prompt, and the
            # description would be most of every training example's tokens
            "training": {"epochs": 1, "batch_size": 4, "learning_rate": 5e-4, "system_prompt": "short"},
            "evaluation": {"max_examples": 4, "repeats": 1, "k_shot": 3},
            "gate": {"max_examples": 4},
        }
    )
    (project / "task.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    home = tmp_path / "home"  # anything germinate might write under ~ lands here too
    home.mkdir()
    env = {
        "SMART_HOME_TEACHER_KEY": KEY,
        "HOME": str(home),
        "GERMINATE_MODEL_CACHE": os.environ.get(
            "GERMINATE_MODEL_CACHE", str(Path.home() / ".cache" / "germinate" / "models")
        ),
    }
    # --force: the gate's calls go through the keyed server too, whatever its verdict. Only the
    # points that call the teacher or train: the seed-only student and the base model never see it.
    result = germinate("run", project, "--force", "--points", "teacher,trained", env=env, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (project / "runs" / "default" / "report.md").exists()
    assert KEY not in result.stdout and KEY not in result.stderr
    written = [p for p in list(project.rglob("*")) + list(home.rglob("*")) if p.is_file()]
    assert any(p.name == "cache.sqlite" for p in written) and any(p.suffix == ".safetensors" for p in written)
    for path in written:
        data = path.read_bytes()
        assert KEY.encode() not in data and b"SENTINEL" not in data, path
