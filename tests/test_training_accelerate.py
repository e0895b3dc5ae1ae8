"""Training under `accelerate launch` with two processes on the CPU: they train one student on a
shared dataset, each on its share of every batch; only the main one writes (one summary, one
train_config, one log, checkpoints once, no half-written files); the adapter loads and lowered the
loss; a second launch resumes from the last checkpoint.

`accelerate launch --cpu --num_processes 2` starts ONE process (accelerate 1.x runs several CPU
processes only through mpirun), so the test asks for two data-parallel processes the way a GPU
user does (`--multi_gpu --num_processes 2`, torch.distributed with gloo) and keeps them on the CPU
with ACCELERATE_USE_CPU, which germinate's trainer honours."""

import json
import math
import os
import subprocess
import sys

import pytest
import yaml
from conftest import germinate
from teacher_helpers import free_port

pytestmark = pytest.mark.slow

TRAINING = {
    "epochs": 1,
    "learning_rate": 1e-3,
    "batch_size": 4,
    "max_length": 128,
    "lora_rank": 8,
    "lora_alpha": 16,
    "save_steps": 2,
}


def launch(project, *args):
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    command += ["--num_machines", "1", "--main_process_port", str(free_port())]
    command += ["--mixed_precision", "no", "--dynamo_backend", "no", "-m", "germinate", "train", str(project), *args]
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "OMP_NUM_THREADS": "1"}
    return subprocess.run(command, capture_output=True, text=True, timeout=1200, env=env)


def test_two_processes_train_one_student_and_resume(datasets, tmp_path):
    project = tmp_path / "trec"
    germinate("init", project, "--from", datasets / "trec", check=0)
    config = yaml.safe_load((project / "task.yaml").read_text())
    config["description"] = "Classify the question by the type of its answer."
    config["training"] = TRAINING
    (project / "task.yaml").write_text(yaml.safe_dump(config))
    extra = project / "more.jsonl"
    extra.write_text("".join((datasets / "trec" / "test.jsonl").read_text().splitlines(True)[:20]))
    germinate("validate", project, "--candidates", extra, "--apply", check=0)

    result = launch(project)
    assert result.returncode == 0, result.stderr[-4000:]
    model = project / "runs" / "default" / "model"
    used = json.loads((model / "train_config.json").read_text())
    assert used["processes"] == 2 and used["precision"] == "float32 weights, no mixed precision"
    first = json.loads((model / "train_result.json").read_text())
    # each optimizer step takes one batch per process: half the steps one process would need
    per_process = math.ceil(first["examples"] / 2)
    assert first["steps"] == math.ceil(per_process / TRAINING["batch_size"])
    assert result.stdout.count(f"trained {first['examples']} examples in {first['steps']} steps") == 1
    log = [json.loads(line) for line in (model / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log if "loss" in row] == list(range(1, first["steps"] + 1))  # written once
    assert not list(project.rglob("*.tmp")) and not list(project.rglob("*.partial"))

    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve
    from germinate.student.infer import resolve_model
    from germinate.student.load import load_model, load_tokenizer
    from germinate.student.train import mean_loss

    loaded = load_project(project)
    base, adapter = resolve_model(resolve(loaded.config).student, RunFolder.of(project), "trained")
    records = [
        json.loads(line)["record"] for line in (project / "runs/default/accepted.jsonl").read_text().splitlines()
    ]
    tokenizer = load_tokenizer(base)
    description = loaded.config["description"]
    before = mean_loss(load_model(base), tokenizer, records, loaded.task_type, description)
    after = mean_loss(load_model(base, adapter=adapter), tokenizer, records, loaded.task_type, description)
    assert after < before * 0.8, (before, after)

    # a second launch with one more epoch resumes from the first one's last checkpoint
    checkpoints = sorted(p.name for p in (model / "checkpoints").glob("checkpoint-*"))
    assert f"checkpoint-{first['steps']}" in checkpoints
    again = launch(project, "--epochs", "2")
    assert again.returncode == 0, again.stderr[-4000:]
    second = json.loads((model / "train_result.json").read_text())
    assert second["resumed_from"].endswith(f"checkpoint-{first['steps']}")
    assert second["steps"] == 2 * first["steps"]
    assert again.stdout.count(f"(resumed from checkpoint-{first['steps']})") == 1
