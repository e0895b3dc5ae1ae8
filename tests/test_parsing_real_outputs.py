"""Parsing of real teacher replies recorded from the embedded local teachers (Qwen2.5-Coder-0.5B
and SmolLM2-135M) on the shared datasets, broken ones included: prose around JSON, code fences,
JSON cut off before its last brace, several objects in one reply, the wrong tool, replies that
talk about the label, a JSON output where an input text was asked for, a refusal."""

import json
from pathlib import Path

import pytest

from germinate.generate.loop import Example, GenContext
from germinate.generate.properties import Posterior
from germinate.project.load import load_project
from germinate.settings import GenerationSettings
from germinate.tasks.parsing import ParseError, extract_json, plain_text

pytestmark = pytest.mark.fast

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "teacher_outputs.json").read_text())


@pytest.fixture(scope="module")
def projects(
    datasets,
    tmp_path_factory,
):
    from germinate.testing import run_germinate

    root = tmp_path_factory.mktemp("projects")
    out = {}
    for name in sorted({f["dataset"] for f in FIXTURES}):
        assert run_germinate("init", root / name, "--from", datasets / name).exit_code == 0
        out[name] = load_project(root / name)
    return out


def test_fixtures_cover_every_family_and_both_outcomes():
    assert {f["family"] for f in FIXTURES} == {
        "classification",
        "tool_calling",
        "open_book_qa",
        "closed_book_qa",
        "information_extraction",
    }
    assert sum("error" in f["expect"] for f in FIXTURES) >= 10 and sum("record" in f["expect"] for f in FIXTURES) >= 10


@pytest.mark.parametrize("index", range(len(FIXTURES)), ids=lambda i: f"{FIXTURES[i]['dataset']}-{i}")
def test_recorded_reply(index, projects):
    fixture = FIXTURES[index]
    project = projects[fixture["dataset"]]
    ctx = GenContext(project, GenerationSettings(), Posterior([], 1.0, {}), [], {})
    example = Example(0, fixture["theta"], [], fixture["chunk"], "")
    previous = [fixture["previous_text"]] if fixture["phase"] == 1 else []
    if "error" in fixture["expect"]:
        with pytest.raises(ParseError) as caught:
            project.task_type.parse_phase(ctx, example, fixture["phase"], fixture["raw"], previous)
        assert str(caught.value) == fixture["expect"]["error"]
    else:
        assert (
            project.task_type.parse_phase(ctx, example, fixture["phase"], fixture["raw"], previous)
            == fixture["expect"]["record"]
        )


@pytest.mark.parametrize(
    "text,value",
    [
        ('{"a": 1,}', {"a": 1}),
        ('noise {"a": [1, 2', {"a": [1, 2]}),
        ('{"a": "unterminated', {"a": "unterminated"}),
        ('first {"a": 1} then {"b": 2}', {"a": 1}),
        ("```json\n[1, 2]\n```", None),
    ],
)
def test_extract_json_repairs(text, value):
    if value is None:
        with pytest.raises(ParseError):
            extract_json(text)
    else:
        assert extract_json(text) == value


def test_plain_text_strips_labels_quotes_and_preambles():
    assert plain_text('Input: "How far is the moon?"\n\nThis asks for a distance.') == "How far is the moon?"
    assert plain_text("Sure, here is one:\nWhere is Lima?") == "Where is Lima?"
    # a line that only announces the text, as the 0.5B teacher wrote before an extraction input
    assert plain_text("The new text will be:\nThe lease ends May 1.", whole=True) == "The lease ends May 1."
    assert plain_text("Below is a rewritten example:\nBook a table.") == "Book a table."
    # a first line of the text itself that happens to end in a colon stays
    assert plain_text("The following rules apply:\nNo pets.", whole=True) == "The following rules apply:\nNo pets."
    with pytest.raises(ParseError, match="refused"):
        plain_text("I'm sorry, I cannot help with that.")
