"""Judge calibration against loopback judges: on gold, swapped and perturbed answers from the test
split, a judge that always says CORRECT gets kappa 0 and is flagged, a judge that answers from the
gold labels gets kappa 1; the retest really asks again (the cache cannot answer it); the figures
are in report.json and report.md."""

import json
import re
from collections import Counter

import pytest
from rich.console import Console

from germinate.evaluate.points import Model
from germinate.pipeline import evaluate_stage, report_stage
from germinate.project.load import load_project
from germinate.run_folder import RunFolder
from germinate.settings import resolve
from germinate.testing.loopback import Action, LoopbackServer, last_user_text

pytestmark = pytest.mark.fast

REF = re.compile(r"Reference answer:\n(.*?)\n\nModel answer:\n(.*?)\n\n", re.S)
PEOPLE = [
    ("Ada Lovelace", "London", 1815),
    ("Alan Turing", "Maida Vale", 1912),
    ("Grace Hopper", "New York City", 1906),
    ("Edsger Dijkstra", "Rotterdam", 1930),
    ("Barbara Liskov", "Los Angeles", 1939),
    ("Donald Knuth", "Milwaukee", 1938),
    ("John McCarthy", "Boston", 1927),
    ("Frances Allen", "Peru", 1932),
    ("Tony Hoare", "Colombo", 1934),
    ("Niklaus Wirth", "Winterthur", 1934),
    ("Margaret Hamilton", "Paoli", 1936),
    ("Ken Thompson", "New Orleans", 1943),
]


def _record(name, city, year, ask_year, seed=False):
    context = f"{name} was born in {city} in {year}."
    if ask_year:
        question = f"What year was {name} born in?" if seed else f"In which year was {name} born?"
        return {"context": context, "question": question, "answer": str(year)}
    question = f"Which city was {name} born in?" if seed else f"Where was {name} born?"
    return {"context": context, "question": question, "answer": city}


SEEDS = [_record(*p, ask_year=i % 2 == 0, seed=True) for i, p in enumerate(PEOPLE[:10])]
TEST = [_record(*p, ask_year=i % 3 == 0) for i, p in enumerate(PEOPLE)]
ANSWERS = {r["question"]: r["answer"] for r in TEST}


def teacher_answer(text):
    """A teacher that wraps the right answer in a sentence, so every answer needs the judge."""
    question = text.rsplit("Question: ", 1)[-1]
    return f"I believe the answer is {ANSWERS[question]}."


def always_correct(call):
    text = last_user_text(call.body)
    return Action("ok", text="CORRECT" if REF.search(text) else teacher_answer(text))


def from_gold(call):
    """Says CORRECT exactly when the answer is the reference (or contains it in a sentence)."""
    text = last_user_text(call.body)
    match = REF.search(text)
    if not match:
        return Action("ok", text=teacher_answer(text))
    reference, prediction = match.group(1).strip(), match.group(2).strip()
    right = prediction == reference or prediction == f"I believe the answer is {reference}."
    return Action("ok", text="CORRECT" if right else "INCORRECT")


@pytest.fixture
def qa_project(make_project):
    def build(server):
        config = {
            "task_type": "open_book_qa",
            "description": "Answer the question from the context with a short answer.",
            "teacher": {"backend": "openai", "model": "loop", "base_url": server.url + "/v1", "max_retries": 0},
            "evaluation": {"k_shot": 2},
        }
        return load_project(make_project(config=config, seeds=SEEDS, test=TEST))

    return build


def _evaluate(project):
    run = RunFolder.of(project.root).ensure()
    result = evaluate_stage(
        project, run, resolve(project.config), Console(quiet=True), models=[Model("teacher")], adapters={}
    )
    return run, result, report_stage(run, result)


def _judge_prompts(server):
    return [last_user_text(c.body) for c in server.calls if REF.search(last_user_text(c.body))]


def test_an_always_correct_judge_gets_kappa_zero_and_is_flagged(qa_project):
    with LoopbackServer(always_correct) as server:
        _, result, paths = _evaluate(qa_project(server))
    calibration = json.loads(paths["json"].read_text())["judge"]["calibration"]
    assert calibration["kappa"] == pytest.approx(0.0, abs=1e-9) and calibration["flagged"]
    assert calibration["tpr"] == 1.0 and calibration["tnr"] == 0.0
    kinds = calibration["by_kind"]
    assert kinds["gold"]["items"] == 12 and kinds["swapped"]["items"] == 12 and kinds["perturbed"]["items"] == 12
    assert len(calibration["misjudged"]) == 5 and calibration["misjudged"][0]["verdict"] == "CORRECT"
    report = paths["md"].read_text()
    assert "judge (κ 0.00, unreliable)" in report
    assert "Cohen's κ 0.00, TPR 1.00, TNR 0.00" in report and "flagged: κ below 0.6" in report
    assert result.judge_unreliable


def test_a_judge_answering_from_the_gold_labels_gets_kappa_one(qa_project):
    with LoopbackServer(from_gold) as server:
        _, result, paths = _evaluate(qa_project(server))
    calibration = json.loads(paths["json"].read_text())["judge"]["calibration"]
    assert calibration["kappa"] == 1.0 and not calibration["flagged"]
    assert calibration["tpr"] == 1.0 and calibration["tnr"] == 1.0
    assert calibration["retest"] == {"items": 30, "agreement": 1.0}
    assert "judge (κ 1.00)" in paths["md"].read_text() and "flagged" not in paths["md"].read_text()
    # the teacher's answers hold the right answer in a sentence: the judge passes them all
    assert result.points["teacher"]["metrics"]["judge"]["mean"] == 1.0
    assert result.points["teacher"]["metrics"]["exact_match"]["mean"] == 0.0


def test_the_retest_asks_the_judge_again_and_reruns_use_the_cache(qa_project):
    with LoopbackServer(from_gold) as server:
        project = qa_project(server)
        _, result, _ = _evaluate(project)
        first = _judge_prompts(server)
        items = result.judge["calibration"]["items"]
        retested = result.judge["calibration"]["retest"]["items"]
        # every calibration item reached the server, and the first 30 reached it a second time
        asked = Counter(first[: items + retested])  # the calibration batch comes before any verdict
        assert len(asked) == items and sorted(asked.values()) == [1] * (items - retested) + [2] * retested
        _evaluate(project)  # everything is in the project's cache now: no judge call goes out
        assert len(_judge_prompts(server)) == len(first)


def test_calibration_size_is_a_setting(qa_project, tmp_path):
    with LoopbackServer(from_gold) as server:
        project = qa_project(server)
        config = {**project.config, "evaluation": {"k_shot": 2, "judge_calibration": 3, "judge_retest": 2}}
        (project.root / "task.yaml").write_text(json.dumps(config))
        _, result, _ = _evaluate(load_project(project.root))
    calibration = result.judge["calibration"]
    assert calibration["items"] == 9 and calibration["retest"]["items"] == 2 and calibration["calls"] == 11
