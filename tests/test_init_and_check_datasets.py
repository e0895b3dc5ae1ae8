"""`germinate init --from` turns every shared benchmark dataset into a project that checks clean."""

import json

import pytest
import yaml
from conftest import germinate

pytestmark = pytest.mark.fast

NAMES = [
    "banking77",
    "docs_extraction",
    "ecommerce",
    "git_tool_calling",
    "hotpotqa",
    "mental_health",
    "pii_redaction",
    "roman_empire_qa",
    "squad2_closed_book",
    "trec",
]


@pytest.mark.parametrize("name", NAMES)
def test_init_from_dataset_then_check_passes(name, datasets, tmp_path, germinate_cli):
    source = datasets / name
    task = json.loads((source / "task.json").read_text())
    result = germinate_cli("init", tmp_path / name, "--from", source)
    assert result.exit_code == 0, result.stderr
    config = yaml.safe_load((tmp_path / name / "task.yaml").read_text())
    assert config["task_type"] == task["task_type"]
    assert config["description"] == task["description"]
    for key in ("labels", "tools", "output_schema"):
        assert config.get(key) == task.get(key)
    seeds = (source / "seeds.jsonl").read_text().splitlines()
    assert len((tmp_path / name / "seeds.jsonl").read_text().splitlines()) == len(seeds)
    checked = germinate_cli("check", tmp_path / name)
    assert checked.exit_code == 0, checked.stderr
    assert f"{len(seeds)} seeds" in checked.stdout


def test_init_writes_commented_yaml_and_keeps_existing_projects(datasets, tmp_path, germinate_cli):
    dest = tmp_path / "trec"
    assert germinate_cli("init", dest, "--from", datasets / "trec").exit_code == 0
    text = (dest / "task.yaml").read_text()
    assert text.count("\n#") > 10 and "# teacher:" in text
    (dest / "seeds.jsonl").write_text("my edits\n")
    again = germinate_cli("init", dest, "--from", datasets / "trec")
    assert again.exit_code == 2
    assert again.stderr.strip().endswith("task.yaml: already exists; use --force to overwrite the project's files")
    assert (dest / "seeds.jsonl").read_text() == "my edits\n"


def test_closed_book_knowledge_base_lands_in_context(datasets, tmp_path, germinate_cli):
    germinate_cli("init", tmp_path / "sq", "--from", datasets / "squad2_closed_book")
    assert (tmp_path / "sq" / "context" / "documents.jsonl").read_bytes() == (
        datasets / "squad2_closed_book" / "documents.jsonl"
    ).read_bytes()


def test_init_interactive_asks_for_what_flags_leave_out(tmp_path, germinate_cli):
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text(
        "".join(
            json.dumps({"input": f"message number {i}", "output": "spam" if i % 2 else "ham"}) + "\n" for i in range(12)
        )
    )
    answers = "classification\nTell spam from ham.\nspam, ham\n"
    result = germinate_cli("init", tmp_path / "p", "--seeds", seeds, input=answers)
    assert result.exit_code == 0, result.stderr
    config = yaml.safe_load((tmp_path / "p" / "task.yaml").read_text())
    assert config == {"task_type": "classification", "description": "Tell spam from ham.", "labels": ["spam", "ham"]}
    assert germinate_cli("check", tmp_path / "p").exit_code == 0


def test_init_from_flags_with_json_catalog(tmp_path, germinate_cli):
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([{"name": "ping", "parameters": {"type": "object", "properties": {}}}]))
    result = germinate_cli(
        "init", tmp_path / "p", "--task-type", "tool_calling", "--description", "Call ping.", input=f"{tools}\n"
    )
    assert result.exit_code == 0, result.stderr
    assert yaml.safe_load((tmp_path / "p" / "task.yaml").read_text())["tools"][0]["name"] == "ping"
    # no seeds yet: check says exactly that
    assert (
        germinate_cli("check", tmp_path / "p").stderr.strip()
        == "seeds.jsonl: seeds: 0 seed examples; at least 10 are needed"
    )


def test_init_unknown_task_type(tmp_path):
    result = germinate("init", tmp_path / "p", "--task-type", "summarization", "--description", "x")
    assert result.returncode == 2
    assert result.stderr.startswith("unknown task type 'summarization' (installed: classification,")
    assert not (tmp_path / "p").exists()
