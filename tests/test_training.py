"""A tiny real LoRA run of the embedded SmolLM2 on TREC examples: it lowers the loss, saves and
reloads, merges into a plain HF model with the same logits, predicts, serves the official openai
client, and resumes after a kill from its last checkpoint."""

import json
import os
import signal
import subprocess
import time

import pytest
import yaml
from conftest import GERMINATE, germinate, germinate_serving

pytestmark = pytest.mark.slow

TRAINING = {"epochs": 1, "learning_rate": 1e-3, "batch_size": 8, "max_length": 128, "lora_rank": 8, "lora_alpha": 16}


def _project(path, datasets, training):
    germinate("init", path, "--from", datasets / "trec", check=0)
    config = yaml.safe_load((path / "task.yaml").read_text())
    config["description"] = "Classify the question by the type of its answer."  # short: fast steps
    config["training"] = training
    (path / "task.yaml").write_text(yaml.safe_dump(config))
    candidates = path / "more.jsonl"
    candidates.write_text("".join((datasets / "trec" / "test.jsonl").read_text().splitlines(True)[:24]))
    germinate("validate", path, "--candidates", candidates, "--apply", check=0)
    return path


@pytest.fixture(scope="module")
def trained(datasets, tmp_path_factory):
    project = _project(tmp_path_factory.mktemp("train") / "trec", datasets, {**TRAINING, "merge": True})
    result = germinate("train", project)
    assert result.returncode == 0, result.stderr[-3000:]
    return project


def _records(project):
    return [
        json.loads(line)["record"]
        for line in (project / "runs" / "default" / "accepted.jsonl").read_text().splitlines()
    ]


def test_training_lowers_the_loss_and_the_adapter_reloads(trained):
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve
    from germinate.student.infer import resolve_model
    from germinate.student.load import load_model, load_tokenizer
    from germinate.student.train import mean_loss

    project = load_project(trained)
    records = _records(trained)
    base, adapter = resolve_model(resolve(project.config).student, RunFolder.of(trained), "trained")
    tokenizer = load_tokenizer(base)
    before = mean_loss(load_model(base), tokenizer, records, project.task_type, project.config["description"])
    after = mean_loss(
        load_model(base, adapter=adapter), tokenizer, records, project.task_type, project.config["description"]
    )
    assert after < before * 0.8, (before, after)
    model_dir = trained / "runs" / "default" / "model"
    used = json.loads((model_dir / "train_config.json").read_text())
    assert used["learning_rate"] == 1e-3 and used["target_modules"] == ["q_proj", "v_proj"] and used["lora_rank"] == 8
    log = [json.loads(line) for line in (model_dir / "train_log.jsonl").read_text().splitlines()]
    assert any("loss" in row for row in log) and any("eval_loss" in row for row in log)


def test_merged_model_gives_the_same_logits(trained):
    import torch
    from transformers import AutoModelForCausalLM

    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder
    from germinate.settings import resolve
    from germinate.student.infer import resolve_model
    from germinate.student.load import load_model, load_tokenizer

    project = load_project(trained)
    base, adapter = resolve_model(resolve(project.config).student, RunFolder.of(trained), "trained")
    merged = AutoModelForCausalLM.from_pretrained(trained / "runs" / "default" / "model" / "merged")
    tokenizer = load_tokenizer(base)
    ids = tokenizer("What is the capital of Peru ?", return_tensors="pt")
    with torch.no_grad():
        expected = load_model(base, adapter=adapter)(**ids).logits
        got = merged(**ids).logits
    assert torch.allclose(got, expected, atol=1e-4)


def test_predict_writes_batched_predictions(trained, tmp_path):
    records = tmp_path / "q.jsonl"
    records.write_text(
        '{"input": "Who wrote Hamlet ?", "output": "human"}\n{"input": "What does NASA stand for ?", "output": "abbreviation"}\n'
    )
    result = germinate(
        "predict", trained, "--input", records, "--output", tmp_path / "p.jsonl", "--max-new-tokens", "8"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2] and all(isinstance(r["prediction"], str) for r in rows)
    assert rows[0]["record"]["output"] == "human"


def test_serve_answers_the_official_openai_client(trained):
    import openai

    with germinate_serving(trained) as port:
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused")
        assert [m.id for m in client.models.list().data] == ["trec"]
        reply = client.chat.completions.create(
            model="trec", max_tokens=6, messages=[{"role": "user", "content": "Where is Lima ?"}]
        )
        assert isinstance(reply.choices[0].message.content, str)
        assert reply.usage.prompt_tokens > 5 and 0 < reply.usage.completion_tokens <= 6


def test_training_resumes_from_its_last_checkpoint_after_a_kill(datasets, tmp_path):
    project = _project(tmp_path / "trec", datasets, {**TRAINING, "epochs": 2, "save_steps": 1, "batch_size": 4})
    checkpoints = project / "runs" / "default" / "model" / "checkpoints"
    process = subprocess.Popen(
        GERMINATE + ["train", str(project)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    while not (checkpoints / "checkpoint-3" / "trainer_state.json").exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.5)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done = sorted(int(p.name.split("-")[1]) for p in checkpoints.glob("checkpoint-*"))
    result = germinate("train", project)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "resumed from checkpoint-" in result.stdout
    final = json.loads((project / "runs" / "default" / "model" / "train_result.json").read_text())
    resumed = int(final["resumed_from"].rsplit("-", 1)[1])
    assert resumed >= 3 and resumed in done
    state = json.loads(
        (
            sorted(checkpoints.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))[-1] / "trainer_state.json"
        ).read_text()
    )
    assert final["steps"] == state["max_steps"] and (project / "runs" / "default" / "model" / "adapter").exists()
