"""`germinate init --from` a table: CSV and TSV files (columns mapped by flags or a JSON mapping,
JSON cells for structured outputs), parquet files and local `datasets` folders with their splits.
The project it writes checks clean and holds exactly the table's examples."""

import csv
import json

import pytest
import yaml
from conftest import germinate

from germinate.testing import SAMPLE_SEEDS

pytestmark = pytest.mark.fast

DESCRIPTION = "Classify a product review as positive or negative."


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def _write_table(path, header, rows, delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _init(germinate_cli, dest, source, *args):
    result = germinate_cli(
        "init", dest, "--from", source, "--description", DESCRIPTION, "--task-type", "classification", *args
    )
    assert result.exit_code == 0, result.stderr
    checked = germinate_cli("check", dest)
    assert checked.exit_code == 0, checked.stderr
    return result


def test_csv_with_column_flags_reads_labels_from_the_data(tmp_path, germinate_cli):
    rows = [(seed["output"], seed["input"]) for seed in SAMPLE_SEEDS]
    rows[0] = (rows[0][0], 'It arrived early, "as promised",\nand works.')  # quotes, a comma, a newline
    source = _write_table(tmp_path / "reviews.csv", ["sentiment", "text"], rows)
    result = _init(germinate_cli, tmp_path / "p", source, "--input-column", "text", "--output-column", "sentiment")
    assert 'labels read from the data: ["positive", "negative"]' in result.stdout
    config = yaml.safe_load((tmp_path / "p" / "task.yaml").read_text())
    assert config["labels"] == ["positive", "negative"] and config["description"] == DESCRIPTION
    seeds = _jsonl(tmp_path / "p" / "seeds.jsonl")
    assert seeds == [{"input": text, "output": label} for label, text in rows]


def test_tsv_with_same_named_columns(tmp_path, germinate_cli):
    source = _write_table(
        tmp_path / "seeds.tsv",
        ["input", "output", "notes"],
        [(s["input"], s["output"], "x") for s in SAMPLE_SEEDS],
        "\t",
    )
    _init(germinate_cli, tmp_path / "p", source)
    assert _jsonl(tmp_path / "p" / "seeds.jsonl") == SAMPLE_SEEDS  # the extra column is left out


def test_tool_calls_as_json_cells_and_other_shapes_by_mapping(datasets, tmp_path, germinate_cli):
    for name, mapping in (
        ("git_tool_calling", {"input": "request", "output": "call"}),
        ("hotpotqa", {"question": "q", "context": "passage", "answer": "a"}),
    ):
        source = datasets / name
        task = json.loads((source / "task.json").read_text())
        seeds = _jsonl(source / "seeds.jsonl")
        table = _write_table(
            tmp_path / f"{name}.csv",
            list(mapping.values()),
            [[s[field] if isinstance(s[field], str) else json.dumps(s[field]) for field in mapping] for s in seeds],
        )
        dest = tmp_path / name
        extra = json.dumps(task["tools"]) + "\n" if "tools" in task else ""
        result = germinate_cli(
            "init",
            dest,
            "--from",
            table,
            "--task-type",
            task["task_type"],
            "--description",
            task["description"],
            "--columns",
            json.dumps(mapping),
            input=extra,
        )
        assert result.exit_code == 0, result.stderr
        assert germinate_cli("check", dest).exit_code == 0
        assert _jsonl(dest / "seeds.jsonl") == [{f: s[f] for f in mapping} for s in seeds]


def test_datasets_folder_gives_seeds_and_test_split_and_parquet_files_work(tmp_path, germinate_cli):
    from datasets import Dataset, DatasetDict

    test = [{"text": "The hinge snapped on day two.", "label": "negative"}]
    rows = [{"text": s["input"], "label": s["output"], "id": i} for i, s in enumerate(SAMPLE_SEEDS)]
    DatasetDict({"train": Dataset.from_list(rows), "test": Dataset.from_list(test)}).save_to_disk(tmp_path / "ds")
    _init(germinate_cli, tmp_path / "p", tmp_path / "ds", "--input-column", "text", "--output-column", "label")
    assert _jsonl(tmp_path / "p" / "seeds.jsonl") == SAMPLE_SEEDS
    assert _jsonl(tmp_path / "p" / "test.jsonl") == [{"input": test[0]["text"], "output": "negative"}]

    Dataset.from_list(rows).to_parquet(tmp_path / "seeds.parquet")
    _init(
        germinate_cli, tmp_path / "q", tmp_path / "seeds.parquet", "--input-column", "text", "--output-column", "label"
    )
    assert _jsonl(tmp_path / "q" / "seeds.jsonl") == SAMPLE_SEEDS

    # real processes for exact stderr: an in-process run shares the plugin manager's warnings
    result = germinate(
        "init", tmp_path / "r", "--from", tmp_path / "ds", "--split", "validation", "--task-type", "classification"
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'ds'}: --split: no split 'validation' (splits: train, test)"


def test_bad_tables_are_one_line_per_problem_and_write_nothing(tmp_path):
    source = _write_table(tmp_path / "t.csv", ["text", "label"], [(s["input"], s["output"]) for s in SAMPLE_SEEDS])
    result = germinate("init", tmp_path / "p", "--from", source, "--task-type", "classification", "--description", "d")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{source}: input: no column 'input' (columns: label, text)",
        f"{source}: output: no column 'output' (columns: label, text)",
    ]
    assert not (tmp_path / "p").exists()

    calls = _write_table(tmp_path / "calls.csv", ["input", "output"], [("lights on", "{not json"), ("off", "{}")])
    result = germinate("init", tmp_path / "q", "--from", calls, "--task-type", "tool_calling", "--description", "d")
    assert result.returncode == 2
    assert result.stderr.strip().startswith(f"{calls}:2: output: expected JSON in column 'output': ")
    assert not (tmp_path / "q").exists()

    result = germinate("init", tmp_path / "r", "--from", source, "--task-type", "classification", "--columns", "[1]")
    assert result.returncode == 2
    assert result.stderr.strip() == '--columns: expected {"record field": "column", ...}'
