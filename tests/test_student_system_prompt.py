"""training.system_prompt (description | short | none): one function decides the student's system
message, training records it in train_config.json, and predict, serve and evaluation give a
trained adapter exactly what it was trained with."""

import json
import urllib.request

import pytest
import yaml
from conftest import germinate, germinate_serving

from germinate.project.load import load_project
from germinate.run_folder import ModelFolder, RunFolder
from germinate.student.messages import prompt_messages, system_text, trained_system


@pytest.mark.fast
def test_system_text_for_each_mode(make_project):
    project = load_project(make_project())
    task, config = project.task_type, project.config
    assert system_text(task, config, "description") == config["description"]
    assert system_text(task, config, "short") == "Answer with one label: positive, negative."
    assert system_text(task, config, "none") is None
    record = {"input": "Great.", "output": "positive"}
    assert prompt_messages(task, record, None) == [{"role": "user", "content": "Great."}]
    assert prompt_messages(task, record, "S")[0] == {"role": "system", "content": "S"}


@pytest.mark.fast
def test_a_trained_adapter_gets_the_system_text_it_was_trained_with(tmp_path):
    config = {"description": "Classify it."}
    folder = ModelFolder(tmp_path / "model")
    folder.adapter.mkdir(parents=True)
    assert trained_system(folder.adapter, config) == "Classify it."  # trained before the setting: description
    for saved in ("Answer with one label: a, b.", None):
        folder.train_config.write_text(json.dumps({"system_prompt": "x", "system_text": saved}))
        assert trained_system(folder.adapter, config) == saved
    assert trained_system(None, config) == "Classify it."  # the untuned base student


@pytest.mark.fast
def test_the_setting_is_checked(make_project):
    project = make_project()
    config = yaml.safe_load((project / "task.yaml").read_text())
    config["training"] = {"system_prompt": "tiny"}
    (project / "task.yaml").write_text(yaml.safe_dump(config))
    result = germinate("check", project)
    assert result.returncode == 2
    assert "training.system_prompt" in result.stderr and "description" in result.stderr


TRAINING = {
    "epochs": 1,
    "learning_rate": 1e-3,
    "batch_size": 8,
    "max_length": 128,
    "lora_rank": 8,
    "lora_alpha": 16,
    "system_prompt": "short",
}


@pytest.mark.slow
def test_train_predict_serve_and_evaluate_use_the_same_system_text(datasets, tmp_path):
    from germinate.evaluate.harness import answer_budget
    from germinate.settings import resolve
    from germinate.student.load import base_folder, load_tokenizer

    project = tmp_path / "trec"
    germinate("init", project, "--from", datasets / "trec", check=0)
    config = yaml.safe_load((project / "task.yaml").read_text())
    config["training"] = TRAINING
    (project / "task.yaml").write_text(yaml.safe_dump(config))
    test = (datasets / "trec" / "test.jsonl").read_text().splitlines(True)
    (project / "test.jsonl").write_text("".join(test[:8]))
    (project / "more.jsonl").write_text("".join(test[100:124]))
    germinate("validate", project, "--candidates", project / "more.jsonl", "--apply", check=0)
    trained = germinate("train", project)
    assert trained.returncode == 0, trained.stderr[-3000:]

    loaded = load_project(project)
    short = "Answer with one label: abbreviation, description, entity, human, location, numeric."
    model = ModelFolder(project / "runs" / "default" / "model")
    assert json.loads(model.train_config.read_text())["system_text"] == short

    settings = resolve(loaded.config)
    budget = answer_budget(loaded, settings.evaluation)
    evaluated = germinate("evaluate", project, "--points", "trained", "--repeats", "1")
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    predicted = germinate(
        "predict", project, "--input", project / "test.jsonl", "--output", tmp_path / "p.jsonl",
        "--max-new-tokens", str(budget), "--batch-size", str(settings.evaluation.batch_size),
    )  # fmt: skip
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    by_predict = [json.loads(line)["prediction"] for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    run = RunFolder(project / "runs" / "default")
    by_evaluate = json.loads(run.raw_predictions_of("trained-r0").read_text())
    assert by_predict == by_evaluate["predictions"]

    # serve adds the trained system text to a request without one: its prompt is exactly that long
    tokenizer = load_tokenizer(base_folder(settings.student))
    question = json.loads(test[0])["input"]

    def prompt_tokens(system):
        messages = prompt_messages(loaded.task_type, {"input": question, "output": "human"}, system)
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    assert prompt_tokens(short) != prompt_tokens(loaded.config["description"])
    with germinate_serving(project) as port:
        body = json.dumps({"messages": [{"role": "user", "content": question}], "max_tokens": 4}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions", body, {"content-type": "application/json"}
        )
        reply = json.loads(urllib.request.urlopen(request, timeout=120).read())
    assert reply["usage"]["prompt_tokens"] == prompt_tokens(short)
