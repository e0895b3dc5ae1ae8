"""Each validator on hand-checked cases, through the real plugin registry."""

import pytest

from germinate import hookimpl
from germinate.plugins import get_plugins
from germinate.validate.base import TaskContext
from germinate.validate.cascade import build_cascade

pytestmark = pytest.mark.fast


def _task(name, **config):
    task_type = get_plugins().task_types[name]
    return TaskContext(task_type, {"task_type": name, "description": "d", **config})


def _check(validator, seeds, task, **settings):
    return get_plugins().validators[validator].prepare(seeds, settings, task)


CLS = dict(labels=["yes", "no"])
SEEDS = [{"input": " ".join(["word"] * n), "output": "yes"} for n in (3, 4, 5, 6, 7, 8, 9, 10, 11, 30)]


def test_length_bounds_are_seed_percentiles():
    import numpy

    check = _check("length", SEEDS, _task("classification", **CLS), slack=1)
    low, high = check.bounds["input"]
    lengths = [len(s["input"].split()) for s in SEEDS]
    assert (low, high) == pytest.approx((numpy.percentile(lengths, 5), numpy.percentile(lengths, 95)))
    assert not check.check({"input": "two words", "output": "yes"}).accepted
    assert check.check({"input": " ".join(["w"] * 21), "output": "yes"}).accepted
    too_long = check.check({"input": " ".join(["w"] * 22), "output": "yes"})
    assert not too_long.accepted and "above the seeds' 95th percentile (" in too_long.reason and too_long.score == 22


def test_length_slack_widens_the_band_by_a_factor_and_says_so():
    import numpy

    lengths = [len(s["input"].split()) for s in SEEDS]
    low, high = numpy.percentile(lengths, 5), numpy.percentile(lengths, 95)
    default = _check("length", SEEDS, _task("classification", **CLS))
    assert default.bounds["input"] == pytest.approx((low / 1.5, high * 1.5))
    wide = _check("length", SEEDS, _task("classification", **CLS), slack=2)
    assert wide.bounds["input"] == pytest.approx((low / 2, high * 2))
    inside = " ".join(["w"] * int(high * 2))  # beyond the bare percentile, within the slack
    assert wide.check({"input": inside, "output": "yes"}).accepted
    verdict = wide.check({"input": " ".join(["w"] * (int(high * 2) + 1)), "output": "yes"})
    assert not verdict.accepted and "above the seeds' 95th percentile × 2 (" in verdict.reason
    short = wide.check({"input": "w", "output": "yes"})
    assert not short.accepted and "below the seeds' 5th percentile / 2 (" in short.reason


def test_length_per_field_and_chars_unit():
    seeds = [{"context": "c", "question": "q" * n, "answer": "a" * (n % 3 + 1)} for n in range(10, 20)]
    check = _check(
        "length", seeds, _task("open_book_qa"), unit="chars", lower_percentile=0, upper_percentile=100, slack=1
    )
    assert check.bounds == {"question": (10, 19), "answer": (1, 3)}
    verdict = check.check({"context": "c", "question": "q" * 12, "answer": "a" * 9})
    assert not verdict.accepted and verdict.reason.startswith("answer: 9 chars")


@pytest.mark.parametrize(
    "text",
    [
        "# Heading",
        "**bold** text",
        "- a list item",
        "<|im_start|>user",
        "  leading space",
        '"Quoted whole text"',
        "...and so",
    ],
)
def test_format_rejects_markup_and_punctuation(text):
    check = _check("format", SEEDS, _task("classification", **CLS))
    verdict = check.check({"input": text, "output": "yes"})
    assert not verdict.accepted and verdict.reason.startswith(f"input: starts with {text[0]!r}")


@pytest.mark.parametrize("text", ["What is it?", "42 apples", "Édouard asks", "ok"])
def test_format_accepts_alphanumeric_starts(text):
    assert _check("format", SEEDS, _task("classification", **CLS)).check({"input": text, "output": "no"}).accepted


def test_format_allows_what_seeds_start_with_and_empty_answers():
    seeds = SEEDS + [{"input": "¿Qué hora es?", "output": "no"}]
    check = _check("format", seeds, _task("classification", **CLS))
    assert check.check({"input": "¿Dónde está?", "output": "no"}).accepted
    assert (
        not _check("format", seeds, _task("classification", **CLS), allow_seed_starts=False)
        .check({"input": "¿Dónde está?", "output": "no"})
        .accepted
    )
    qa = _check("format", [], _task("open_book_qa"))
    assert qa.check({"context": "x", "question": "Is it?", "answer": ""}).accepted


def test_schema_classification_label_set():
    check = _check("schema", SEEDS, _task("classification", **CLS))
    assert check.check({"input": "x", "output": "yes"}).accepted
    verdict = check.check({"input": "x", "output": "maybe"})
    assert not verdict.accepted and verdict.reason == "output: 'maybe' is not one of yes, no"


TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "set_timer",
            "parameters": {
                "type": "object",
                "properties": {
                    "minutes": {"type": "integer"},
                    "label": {"type": "string"},
                    "repeat": {"type": "object", "properties": {"times": {"type": "integer"}}},
                },
                "required": ["minutes"],
            },
        },
    },
    {"type": "function", "function": {"name": "stop", "parameters": {"type": "object", "properties": {}}}},
]


@pytest.mark.parametrize(
    "output,reason",
    [
        ({"name": "set_timer", "arguments": {"minutes": 5}}, None),
        ({"name": "stop", "arguments": {}}, None),
        ({"name": "get_weather", "arguments": {}}, "output.name: 'get_weather' is not one of set_timer, stop"),
        (
            {"name": "set_timer", "arguments": {"minutes": "5"}},
            "output.arguments.minutes: expected integer, got string '5'",
        ),
        ({"name": "set_timer", "arguments": {}}, "output.arguments.minutes: required field is missing"),
        (
            {"name": "set_timer", "arguments": {"minutes": 1, "volume": 3}},
            "output.arguments.volume: unexpected field (allowed: label, minutes, repeat)",
        ),
        (
            {"name": "set_timer", "arguments": {"minutes": 1, "repeat": {"times": 2, "every": 3}}},
            "output.arguments.repeat.every: unexpected field (allowed: times)",
        ),
        ({"name": "stop"}, "output.arguments: required field is missing"),
    ],
)
def test_schema_tool_calls(output, reason):
    verdict = _check("schema", [], _task("tool_calling", tools=TOOLS)).check({"input": "x", "output": output})
    assert verdict.accepted is (reason is None)
    assert verdict.reason == (reason or "")


def test_schema_strict_can_be_relaxed():
    loose = _check("schema", [], _task("tool_calling", tools=TOOLS), strict=False)
    assert loose.check(
        {"input": "x", "output": {"name": "set_timer", "arguments": {"minutes": 1, "volume": 3}}}
    ).accepted


def test_schema_extraction_output_schema():
    schema = {
        "type": "object",
        "properties": {"people": {"type": "array", "items": {"type": "string"}}, "city": {"type": "string"}},
        "required": ["people", "city"],
    }
    check = _check("schema", [], _task("information_extraction", output_schema=schema))
    assert check.check({"input": "x", "output": {"people": ["A"], "city": "Oslo"}}).accepted
    assert check.check({"input": "x", "output": {"people": ["A"]}}).reason == "output.city: required field is missing"
    assert (
        check.check({"input": "x", "output": {"people": "A", "city": "Oslo"}}).reason
        == "output.people: expected array, got string 'A'"
    )
    assert check.check({"input": "x", "output": {"people": [], "city": "Oslo", "zip": "1"}}).reason.startswith(
        "output.zip: unexpected field"
    )


class ShortAnswers:
    @hookimpl
    def schema_rules(self, task_type, config):
        if task_type.name == "open_book_qa":
            return {"properties": {"answer": {"maxLength": 20}}}


def test_schema_rules_hook_adds_rules(register_plugin):
    register_plugin(ShortAnswers(), "short-answers")
    check = _check("schema", [], _task("open_book_qa"))
    assert check.check({"context": "c", "question": "q", "answer": "Paris"}).accepted
    assert not check.check({"context": "c", "question": "q", "answer": "a very long answer indeed, too long"}).accepted


def test_novelty_grows_anchors_only_on_acceptance():
    seeds = [
        {"input": f"seed question number {w} about " + "things " * n, "output": "yes"}
        for n, w in enumerate("abcdefghij")
    ]
    cascade = build_cascade(get_plugins().task_types["classification"], {"labels": ["yes", "no"]}, seeds)
    fresh = {"input": "which seed question about volcanoes under the ocean floor", "output": "no"}
    first = cascade.judge(fresh)
    assert first.accepted and 0.1 <= first.scores["novelty"] <= 0.9
    again = cascade.judge(fresh)
    assert not again.accepted and again.validator == "novelty" and again.verdict.score == 1.0
    assert again.verdict.detail["nearest_anchor"] == fresh["input"]
    assert again.verdict.reason == "near-copy: ROUGE-L 1.000 > τ_max 0.9"


def test_cascade_order_disable_and_first_rejection():
    seeds = SEEDS
    config = {"labels": ["yes", "no"], "validation": {"order": ["novelty", "length"], "format": False}}
    cascade = build_cascade(get_plugins().task_types["classification"], config, seeds)
    assert cascade.names == ["novelty", "length", "structure", "schema", "grounding"]
    decision = cascade.judge({"input": "# x", "output": "maybe"})  # novelty sees no overlap first
    assert decision.validator == "novelty" and "off-task" in decision.verdict.reason
