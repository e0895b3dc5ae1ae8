"""`germinate predict` checks every input line against the task's input fields (outputs optional)
before it loads any model: bad lines are `file:line: field: message`, exit 2."""

import pytest
from conftest import germinate

pytestmark = pytest.mark.fast


def test_bad_input_lines_are_reported_before_the_model_is_looked_at(make_project, tmp_path):
    project = make_project()
    # a student that cannot be loaded: were the model looked at first, this would be the error
    (project / "task.yaml").write_text(
        (project / "task.yaml").read_text() + f"student:\n  model: {project / 'seeds.jsonl'}\n"
    )
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"input": "fine, and unlabelled"}\n'
        '{"text": "no input field"}\n'
        '{"input": 5}\n'
        "not json\n"
        '{"input": ""}\n'
        '{"input": "labelled too", "output": "positive"}\n'
    )
    result = germinate("predict", project, "--model", "base", "--input", bad)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{bad}:2: input: required field is missing",
        f"{bad}:3: input: expected string, got integer 5",
        f"{bad}:4: json: Expecting value (column 1)",
        f"{bad}:5: input: must not be empty",
    ]


def test_unlabelled_records_pass_the_check_and_reach_the_model(make_project, tmp_path):
    project = make_project()
    (project / "task.yaml").write_text(
        (project / "task.yaml").read_text() + f"student:\n  model: {project / 'seeds.jsonl'}\n"
    )
    good = tmp_path / "good.jsonl"
    good.write_text('{"input": "no output here"}\n{"input": "nor here", "id": 7}\n')
    result = germinate("predict", project, "--model", "base", "--input", good)
    # the input is fine, so the next thing looked at is the (deliberately broken) student
    assert result.returncode == 2
    assert result.stderr.strip().endswith("expected a .gguf file or a Hugging Face folder")


def test_a_qa_task_needs_its_question_not_its_answer(make_project, tmp_path):
    seeds = [{"question": f"What is {i} plus {i}?", "answer": str(2 * i)} for i in range(10)]
    project = make_project(
        config={"task_type": "closed_book_qa", "description": "Answer arithmetic questions."}, seeds=seeds
    )
    rows = tmp_path / "questions.jsonl"
    rows.write_text('{"question": "What is 3 plus 4?"}\n{"answer": "7"}\n')
    result = germinate("predict", project, "--model", "base", "--input", rows, "--output", tmp_path / "p.jsonl")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"{rows}:2: question: required field is missing"]
