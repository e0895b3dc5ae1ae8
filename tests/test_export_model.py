"""`germinate export` of a tiny real student (the embedded SmolLM2, LoRA-trained here on TREC
examples for one quick epoch): the f16 GGUF from llama.cpp's converter, loaded by the local
backend, answers as the transformers student does; q8_0 keeps its accuracy; the Ollama folder
loads and answers; the merged and adapter folders load with transformers / peft and carry a
model card."""

import json
import sys
from pathlib import Path

import pytest
import yaml
from conftest import germinate

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

TRAINING = {"epochs": 1, "learning_rate": 1e-3, "batch_size": 8, "max_length": 128, "lora_rank": 8, "lora_alpha": 16}
#: test records the student never saw (it trains on the seeds and the first 24 test lines)
SHARED = slice(24, 64)


@pytest.fixture(scope="module")
def trained(datasets, tmp_path_factory):
    project = tmp_path_factory.mktemp("export") / "trec"
    germinate("init", project, "--from", datasets / "trec", check=0)
    config = yaml.safe_load((project / "task.yaml").read_text())
    config["description"] = "Classify the question by the type of its answer."  # short: fast steps
    config["training"] = TRAINING
    (project / "task.yaml").write_text(yaml.safe_dump(config))
    lines = (datasets / "trec" / "test.jsonl").read_text().splitlines(True)
    (project / "more.jsonl").write_text("".join(lines[:24]))
    germinate("validate", project, "--candidates", project / "more.jsonl", "--apply", check=0)
    (project / "test.jsonl").write_text("".join(lines[SHARED]))
    result = germinate("train", project)
    assert result.returncode == 0, result.stderr[-3000:]
    return project


def _loaded(project):
    from germinate.project.load import load_project
    from germinate.run_folder import RunFolder

    return load_project(project), RunFolder.of(project)


def test_f16_gguf_answers_like_the_student_and_q8_0_keeps_its_accuracy(trained):
    from _roundtrip import accuracy, agreement, gguf_answers, student_answers

    from germinate.student.export import gguf_chat_template

    project, run = _loaded(trained)
    files = {}
    for quant in ("f16", "q8_0"):
        result = germinate("export", trained, "--format", "gguf", "--quant", quant)
        assert result.returncode == 0, result.stderr[-3000:]
        files[quant] = run.export.gguf("trec", quant)
        assert f"gguf: {files[quant]} ({quant})" in result.stdout
        # the student's own chat template travels inside the file
        template = Path(json.loads(run.model().train_config.read_text())["student_folder"]) / "chat_template.jinja"
        assert gguf_chat_template(files[quant]) == template.read_text()
    assert files["q8_0"].stat().st_size < 0.7 * files["f16"].stat().st_size

    records = [r.data for r in project.test]
    student = student_answers(project, run, records, max_new_tokens=8)
    f16 = gguf_answers(files["f16"], project, run, records, max_new_tokens=8)
    q8 = gguf_answers(files["q8_0"], project, run, records, max_new_tokens=8)
    assert len(set(student)) > 1, student  # a student that says one thing would prove little
    assert agreement(student, f16) >= 0.95, list(zip(student, f16))
    assert abs(accuracy(project, records, q8) - accuracy(project, records, f16)) <= 0.02


def test_ollama_folder_loads_in_the_local_backend_and_answers(trained):
    from _roundtrip import agreement, gguf_answers, student_answers

    project, run = _loaded(trained)
    result = germinate("export", trained, "--format", "ollama")
    assert result.returncode == 0, result.stderr[-3000:]
    folder = run.export.ollama
    gguf = folder / "trec-q8_0.gguf"
    assert sorted(p.name for p in folder.iterdir()) == ["Modelfile", "README.md", "trec-q8_0.gguf"]
    modelfile = (folder / "Modelfile").read_text()
    assert "FROM ./trec-q8_0.gguf\n" in modelfile
    assert 'SYSTEM """Classify the question by the type of its answer."""' in modelfile
    assert 'PARAMETER stop "<|im_end|>"' in modelfile and 'PARAMETER stop "<|im_start|>"' in modelfile
    template = modelfile.split('TEMPLATE """')[1].split('"""')[0]
    assert template.startswith("{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}")
    assert template.endswith("{{ end }}{{ end }}<|im_start|>assistant\n")
    readme = (folder / "README.md").read_text()
    assert "ollama create trec -f Modelfile" in readme and "ollama run trec" in readme
    records = [r.data for r in project.test][:5]
    answers = gguf_answers(gguf, project, run, records, max_new_tokens=8)
    student = student_answers(project, run, records, max_new_tokens=8)
    # q8_0 rounds the weights: a near-tie token may flip, so most (not all) greedy answers match
    assert all(answers) and agreement(student, answers) >= 0.8, list(zip(student, answers))


def test_merged_and_adapter_folders_load_and_carry_a_model_card(trained):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _, run = _loaded(trained)
    (run.path / "report.json").write_text(
        json.dumps({"test_examples": 40, "metric": "accuracy", "points": {"trained": {"mean": 0.5, "std": 0.01}}})
    )
    for fmt in ("merged", "adapter"):
        result = germinate("export", trained, "--format", fmt)
        assert result.returncode == 0, result.stderr[-3000:]
    merged, adapter = run.export.merged, run.export.adapter
    tokenizer = AutoTokenizer.from_pretrained(merged)
    ids = tokenizer("What is the capital of Peru ?", return_tensors="pt")
    base = json.loads(run.model().train_config.read_text())["student_folder"]
    with torch.no_grad():
        got = AutoModelForCausalLM.from_pretrained(merged)(**ids).logits
        expected = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), adapter)(**ids).logits
    assert torch.allclose(got, expected, atol=1e-4)
    for folder, library in ((merged, "transformers"), (adapter, "peft")):
        card = (folder / "README.md").read_text()
        front = yaml.safe_load(card.split("---")[1])
        assert front["license"] == "apache-2.0" and front["library_name"] == library
        assert "Classify the question by the type of its answer." in card
        synthetic = sum(json.loads(line)["source"] != "seed" for line in run.accepted.read_text().splitlines())
        assert f"20 seed examples, {synthetic} accepted synthetic examples" in card
        assert "| trained | 0.500 | 0.010 |" in card
        assert "licence: apache-2.0" in card
