"""Evaluation with a real HTTP teacher and judge (a loopback OpenAI-compatible server): the
teacher's k-shot prompt holds training data only, every answer is scored once, judge verdicts are
read safely (an unreadable or failed verdict counts as wrong and is listed), the judge is checked
on the seeds, its prompt is versioned and overridable, and the report agrees with the predictions."""

import json
import re

import pytest
import yaml

from germinate.evaluate.harness import cell
from germinate.evaluate.judge import JUDGE_PROMPT_VERSION, judge_prompt, obviously_equal, read_verdict
from germinate.evaluate.points import Model
from germinate.pipeline import evaluate_stage, report_stage
from germinate.problems import GerminateError
from germinate.project.load import load_project
from germinate.project.scaffold import init_from
from germinate.run_folder import RunFolder
from germinate.settings import resolve
from germinate.testing.loopback import Action, LoopbackServer, last_user_text

pytestmark = pytest.mark.fast

REF = re.compile(r"Reference answer:\n(.*?)\n\nModel answer:\n(.*?)\n\n", re.S)


class Teacher:
    """Answers test question i right when i % 3 == 0, wrong (another answer) when i % 3 == 1, and
    with the right answer in a sentence when i % 3 == 2; a judge that grades by containment, except
    that it mumbles for one chosen prediction and fails with HTTP 400 for another."""

    def __init__(self, test):
        self.answers = {row["question"]: (i, row["answer"]) for i, row in enumerate(test)}
        self.teacher_bodies = []

    def __call__(self, call):
        text = last_user_text(call.body)
        match = REF.search(text)
        if match:
            reference, prediction = match.group(1).strip(), match.group(2).strip()
            if prediction == "MUMBLE":
                return Action("ok", text="Well, it depends on how one reads it.")
            if prediction == "FAIL":
                return Action("status", status=400)
            verdict = reference.lower() in prediction.lower() and prediction != "nothing"
            return Action("ok", text="CORRECT" if verdict else "INCORRECT")
        self.teacher_bodies.append(call.body)
        question = text.rsplit("Question: ", 1)[-1]
        i, answer = self.answers[question]
        if i == 4:
            return Action("ok", text="MUMBLE")
        if i == 7:
            return Action("ok", text="FAIL")
        return Action("ok", text=[answer, "nothing", f"I think it is {answer}, surely."][i % 3])


@pytest.fixture
def qa_project(tmp_path, datasets):
    folder = tmp_path / "hotpot"
    init_from(datasets / "hotpotqa", folder)
    test = [json.loads(line) for line in (folder / "test.jsonl").read_text().splitlines()][:12]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
    return folder, test


def _configure(folder, server, **evaluation):
    config = yaml.safe_load((folder / "task.yaml").read_text())
    config["teacher"] = {"backend": "openai", "model": "loop", "base_url": server.url + "/v1", "max_retries": 1}
    config["evaluation"] = {"k_shot": 3, **evaluation}
    (folder / "task.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return load_project(folder)


def _evaluate(project):
    from rich.console import Console

    run = RunFolder.of(project.root).ensure()
    result = evaluate_stage(
        project, run, resolve(project.config), Console(quiet=True), models=[Model("teacher")], adapters={}
    )
    return run, result


def test_teacher_point_scored_with_judge_and_reported(qa_project):
    folder, test = qa_project
    script = Teacher(test)
    with LoopbackServer(script) as server:
        project = _configure(folder, server)
        run, result = _evaluate(project)
    seeds = {json.dumps([project.task_type.prompt_text(s.data), s.data["answer"]]) for s in project.seeds}
    # the fixed k-shot prompt: k user/assistant pairs, all of them seeds, none from the test split
    for body in script.teacher_bodies:
        turns = body["messages"][1:-1]
        assert len(turns) == 6
        pairs = {json.dumps([turns[j]["content"], turns[j + 1]["content"]]) for j in range(0, 6, 2)}
        assert pairs <= seeds
    rows = [json.loads(line) for line in (run.path / "eval" / "predictions" / "teacher.jsonl").read_text().splitlines()]
    assert len(rows) == 12
    for row in rows:
        i = row["index"]
        if i == 4:
            assert row["correct"] is False and row["error"].startswith("judge verdict unreadable")
        elif i == 7:
            assert row["correct"] is False and row["error"].startswith("judge call failed")
        elif i % 3 == 0:
            assert row["correct"] is True and row["judged_by"] == "exact"  # verbatim: no judge call
        elif i % 3 == 1:
            assert row["correct"] is False and row["judged_by"] == "judge"
        else:
            assert row["correct"] is True and row["judged_by"] == "judge"
    expected = sum(1 for r in rows if r["correct"])
    assert all(r["metrics"]["judge"] == float(r["correct"]) for r in rows)
    assert result.points["teacher"]["metrics"]["judge"]["mean"] == pytest.approx(expected / 12)
    # the headline is token F1, computed from the same rows; the judge's column sits beside it
    f1 = sum(r["metrics"]["token_f1"] for r in rows) / 12
    assert result.headline == "token_f1" and result.points["teacher"]["mean"] == pytest.approx(f1)
    assert [m["name"] for m in result.metrics] == ["token_f1", "exact_match", "rouge_l", "judge"]
    assert result.models["teacher"]["unparseable"] == 2
    calibration = result.judge["calibration"]
    assert calibration["kappa"] > 0.8 and not calibration["flagged"]
    assert calibration["by_kind"]["gold"] == {"items": 12, "judged_correct": 12}
    assert result.judge["prompt_id"] == JUDGE_PROMPT_VERSION
    paths = report_stage(run, result)
    table = paths["md"].read_text()
    assert f"| hotpotqa | open_book_qa | token F1 | 12 | {cell(result.points['teacher'])} | - | - | - |" in table
    assert "| point | token F1 (headline) | EM | ROUGE-L | judge (κ " in table
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(paths["json"].read_text())["points"]["teacher"]["mean"] == pytest.approx(f1)


def test_a_judge_that_always_agrees_is_flagged(qa_project):
    folder, _test = qa_project
    with LoopbackServer(lambda call: Action("ok", text="CORRECT")) as server:
        project = _configure(folder, server)
        run, result = _evaluate(project)
    calibration = result.judge["calibration"]
    assert calibration["tnr"] == 0.0 and calibration["kappa"] == 0.0 and calibration["flagged"]
    assert "unreliable)" in report_stage(run, result)["md"].read_text()


def test_custom_judge_prompt_is_used_and_versioned(qa_project):
    folder, _test = qa_project
    seen = []

    def script(call):
        text = last_user_text(call.body)
        seen.append(text)
        return Action("ok", text="INCORRECT" if text.startswith("GRADE") else "nothing")

    (folder / "prompts").mkdir()
    (folder / "prompts" / "judge.txt").write_text("GRADE {prediction} against {reference}. CORRECT or INCORRECT?")
    with LoopbackServer(script) as server:
        project = _configure(folder, server)
        _template, prompt_id = judge_prompt(project)
        assert prompt_id.startswith("custom-") and prompt_id != JUDGE_PROMPT_VERSION
        _, result = _evaluate(project)
    assert result.judge["prompt_id"] == prompt_id
    assert any(text.startswith("GRADE nothing against") for text in seen)
    assert result.points["teacher"]["metrics"]["judge"]["mean"] == 0.0


def test_bad_judge_prompt_is_a_clear_error(qa_project, tmp_path):
    folder, _ = qa_project
    config = yaml.safe_load((folder / "task.yaml").read_text())
    config["evaluation"] = {"judge": {"prompt": "Is {answer} right?"}}
    (folder / "task.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(GerminateError) as error:  # found when the project is loaded, before any stage
        judge_prompt(load_project(folder))
    where, message = str(error.value.problems[0]).split(": ", 1)
    lines = (folder / "task.yaml").read_text().splitlines()
    assert lines[int(where.split(":")[1]) - 1].strip().startswith("prompt: Is {answer}")
    assert message == (
        "evaluation.judge.prompt: unknown placeholder {answer} (available: description, input, reference, prediction)"
    )


@pytest.mark.parametrize(
    "reply, verdict",
    [
        ("CORRECT", True),
        ("INCORRECT", False),
        ("Incorrect. The answer is wrong.", False),
        ("correct.", True),
        ('{"verdict": "correct"}', True),
        ('{"verdict": false}', False),
        ("Yes", True),
        ("no", False),
        ("The answer is right", True),
        ("It depends.", None),
        ("", None),
        ("__import__('os')", None),
    ],
)
def test_verdicts_are_read_not_run(reply, verdict):
    assert read_verdict(reply) is verdict


def test_obvious_matches_skip_the_judge():
    assert obviously_equal("  The End of Suburbia. ", "the end of suburbia")
    assert obviously_equal('{"a": 1, "b": [2]}', '{"b": [2], "a": 1}')
    assert not obviously_equal("Paris, France", "Paris")
    assert cell({"mean": 0.5, "std": 0.004}) == "0.500" and cell({"mean": 0.5, "std": 0.05}) == "0.500 ± 0.050"


def test_teacher_prompt_for_tool_calls_carries_the_catalog_and_only_seeds():
    from pathlib import Path

    from germinate.evaluate.harness import teacher_messages

    project = load_project(Path(__file__).resolve().parents[1] / "examples" / "smart-home")
    shots = [r.data for r in project.seeds][:3]
    messages = teacher_messages(project, shots, project.test[0].data)
    assert messages[0]["role"] == "system" and "Tools (JSON Schema):" in messages[0]["content"]
    for name in ("set_lights", "set_thermostat", "play_music", "set_timer", "lock_door"):
        assert f'"name": "{name}"' in messages[0]["content"]
    assert [m["role"] for m in messages[1:]] == ["user", "assistant"] * 3 + ["user"]
    assert messages[-1]["content"] == project.test[0].data["input"]
    assert [json.loads(m["content"]) for m in messages[2:-1:2]] == [s["output"] for s in shots]


def test_tool_call_report_has_ast_staged_columns_error_kinds_and_readable_mistakes(tmp_path):
    """A loopback teacher that gets one argument wrong in every third answer, calls the wrong tool
    in every fifth and answers prose for one: the report shows each kind and the differing field."""
    import shutil
    from pathlib import Path

    from germinate.testing.loopback import LoopbackServer

    folder = tmp_path / "smart-home"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "smart-home", folder)
    test = [json.loads(line) for line in (folder / "test.jsonl").read_text().splitlines()][:10]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in test))
    wanted = {r["input"]: r["output"] for r in test}

    def teacher(call):
        request = last_user_text(call.body)
        i = list(wanted).index(request)
        call_ = json.loads(json.dumps(wanted[request]))
        if i == 9:
            return Action("ok", text="Sorry, I cannot help with that.")
        if i % 5 == 0:
            call_["name"] = "lock_door" if call_["name"] != "lock_door" else "set_timer"
        elif i % 3 == 0:
            key = sorted(call_["arguments"])[0]
            call_["arguments"][key] = wrong(call_["arguments"][key])
        return Action("ok", text=json.dumps(call_))

    def wrong(value):  # a wrong value of the right type
        return (not value) if isinstance(value, bool) else value + 1 if isinstance(value, (int, float)) else "WRONG"

    with LoopbackServer(teacher) as server:
        project = _configure(folder, server)
        run, result = _evaluate(project)
    rows = [json.loads(line) for line in (run.predictions / "teacher.jsonl").read_text().splitlines()]
    kinds = {r["index"]: r["error_type"] for r in rows if r["error_type"]}
    assert kinds == {0: "wrong_tool", 3: "wrong_value", 5: "wrong_tool", 6: "wrong_value", 9: "unparseable"}
    assert result.models["teacher"]["errors"] == {"wrong_tool": 2, "wrong_value": 2, "unparseable": 1}
    metrics = result.points["teacher"]["metrics"]
    assert metrics["ast"]["mean"] == pytest.approx(0.5) and metrics["valid_call"]["mean"] == pytest.approx(0.9)
    # staged: 5 right (1.0), 2 wrong values (0.75: the keys are right), 2 wrong tools (0.25), 1 unreadable (0)
    assert metrics["staged"]["mean"] == pytest.approx((5 + 2 * 0.75 + 2 * 0.25) / 10)
    report = report_stage(run, result)["md"].read_text()
    assert "| point | AST (headline) | staged | valid call | right tool | right keys | exact |" in report
    assert "wrong_tool 2, wrong_value 2, unparseable 1" in report
    three = next(r for r in rows if r["index"] == 3)
    key = sorted(test[3]["output"]["arguments"])[0]
    value = test[3]["output"]["arguments"][key]
    line = f"arguments.{key}: {json.dumps(wrong(value))} -> {json.dumps(value)}"
    assert three["differences"] == [line] and f"  - `{line}`" in report
    assert f"  - `name: lock_door -> {test[0]['output']['name']}`" in report
