"""Several examples per teacher call (generation.per_call), against a real loopback server: every
item of a numbered reply is parsed on its own (a malformed item rejects that item only, with a
parse reason), keeps its own candidate row, θ and ledger entry; the shared part of every prompt
is the system message; two-phase extraction writes a group of texts in one call, then extracts
each behind one shared system message."""

import json

import pytest
from conftest import germinate

from germinate.testing.loopback import Action, LoopbackServer, last_user_text

pytestmark = pytest.mark.fast

LABELS = json.dumps({"complexity": "simple"})

CLASSIFICATION_REPLY = """Sure! Here are the inputs:
1. The lantern by the harbor flickers all night long
2. The correct label of this input is "positive".
3. **A bold comet over the meadow**
"""


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _script(reply):
    def answer(call):
        text = last_user_text(call.body)
        return Action("ok", text=reply(text) if "Requests:" in text or "Input text:" in text else LABELS)

    return answer


def _generation_calls(server):
    """The calls that wrote examples: not property labelling, not the agreement validator's k-shot
    questions (more than a system and a user turn)."""
    return [
        c for c in server.calls if "Label this example" not in last_user_text(c.body) and len(c.body["messages"]) <= 2
    ]


def test_one_malformed_item_among_k_rejects_that_item_only(make_project):
    with LoopbackServer(_script(lambda text: CLASSIFICATION_REPLY)) as server:
        project = make_project(
            config={
                "task_type": "classification",
                "description": "Classify a product review as positive or negative.",
                "labels": ["positive", "negative"],
                "teacher": {"backend": "openai", "model": "fake", "base_url": server.url + "/v1"},
                "generation": {"per_call": 4, "prompt_style": "listed", "max_attempts": 4, "max_tokens": 100},
                # this server writes examples only; asked as the task it would disagree with them all
                "validation": {"agreement": False},
            }
        )
        result = germinate("generate", project, "--n", "2")
    assert result.returncode == 0, result.stderr
    [call] = _generation_calls(server)
    system, user = call.body["messages"][0]["content"], call.body["messages"][1]["content"]
    assert "Classify a product review" in system and "Labels: positive, negative" in system
    assert call.body["max_tokens"] == 400 and call.body["stop"] == ["\n5.", "\n5)"]

    run = project / "runs" / "default"
    candidates = _rows(run / "candidates.jsonl")
    assert [c["id"] for c in candidates] == ["c000000", "c000001", "c000002", "c000003"]
    assert [c["item"] for c in candidates] == [1, 2, 3, 4]
    assert len({c["prompt_hash"] for c in candidates}) == 1
    # each item was asked for with its own θ, in order, and keeps it
    requests = user.partition("Requests:\n")[2].splitlines()
    for candidate, request in zip(candidates, requests):
        assert request.endswith(f"label: {candidate['theta']['label']}")
    assert candidates[0]["raw"] == "The lantern by the harbor flickers all night long"
    assert candidates[0]["record"] == {"input": candidates[0]["raw"], "output": candidates[0]["theta"]["label"]}
    assert candidates[1]["raw"] == 'The correct label of this input is "positive".'
    assert candidates[3]["raw"] == CLASSIFICATION_REPLY  # nothing of its own: the whole reply, to see why

    rejected = {r["id"]: r for r in _rows(run / "rejected.jsonl")}
    assert rejected["c000001"]["validator"] == "parse"
    assert rejected["c000001"]["reason"] == "parse: the reply talks about the label instead of being an example input"
    assert rejected["c000002"]["validator"] == "format"
    assert rejected["c000003"]["reason"] == "parse: item 4 of 4 is missing from the reply"
    accepted = [r for r in _rows(run / "accepted.jsonl") if r["source"] == "synthetic"]
    assert [r["id"] for r in accepted] == ["c000000"]
    assert "stopped after 4 candidates" in result.stderr


TOOLS = [
    {
        "name": "set_timer",
        "description": "Start a timer.",
        "parameters": {
            "type": "object",
            "properties": {"minutes": {"type": "integer"}},
            "required": ["minutes"],
        },
    },
    {
        "name": "play_music",
        "description": "Play a song.",
        "parameters": {"type": "object", "properties": {"song": {"type": "string"}}, "required": ["song"]},
    },
]
TOOL_SEEDS = [
    {
        "input": f"Set a timer for {m} minutes for the {food}.",
        "output": {"name": "set_timer", "arguments": {"minutes": m}},
    }
    for m, food in [(3, "eggs"), (12, "pasta"), (45, "roast"), (8, "rice"), (20, "bread")]
] + [
    {"input": f"Put on {song} please, loud.", "output": {"name": "play_music", "arguments": {"song": song}}}
    for song in ["Hey Jude", "Yellow", "Hallelujah", "Imagine", "Bohemian Rhapsody"]
]


def test_tool_calling_items_are_parsed_one_by_one(make_project):
    def reply(text):
        # answer each request with the tool it names; item 2's JSON is broken
        lines = text.partition("Requests:\n")[2].partition("\n\n")[0].splitlines()
        wanted = [line.split("tool: ")[1] for line in lines]
        items = []
        for n, tool in enumerate(wanted, 1):
            arguments = {"minutes": 7 * n} if tool == "set_timer" else {"song": f"Song number {n}"}
            call = json.dumps({"input": f"Request {n} about a kettle whistle on the stove", "output": {"name": tool}})
            items.append(
                f"{n}. "
                + (call[:20] if n == 2 else call.replace('"}}', f'", "arguments": {json.dumps(arguments)}}}}}'))
            )
        return "\n".join(items)

    with LoopbackServer(_script(reply)) as server:
        project = make_project(
            config={
                "task_type": "tool_calling",
                "description": "Turn a smart-kitchen request into one tool call.",
                "tools": TOOLS,
                "teacher": {"backend": "openai", "model": "fake", "base_url": server.url + "/v1"},
                "generation": {"per_call": 3, "prompt_style": "listed", "max_attempts": 3},
                "validation": {"length": False, "novelty": False},
            },
            seeds=TOOL_SEEDS,
        )
        result = germinate("generate", project, "--n", "3")
    assert result.returncode == 0, result.stderr
    assert len(_generation_calls(server)) == 1
    assert "Tools (JSON Schema):" in _generation_calls(server)[0].body["messages"][0]["content"]
    candidates = _rows(project / "runs" / "default" / "candidates.jsonl")
    assert [c["record"] is None for c in candidates] == [False, True, False]
    assert candidates[1]["error"] == "parse: the JSON has no 'output' call with a tool name"  # cut off
    for candidate in (candidates[0], candidates[2]):
        assert candidate["record"]["output"]["name"] == candidate["theta"]["tool"]


EXTRACTION_SEEDS = [
    {
        "input": f"Booking for {name} at {place} on {day} for {n} people.",
        "output": {"name": name, "restaurant": place},
    }
    for name, place, day, n in [
        ("Ann Lee", "Luigi's", "Monday", 2),
        ("Bo Chen", "The Anchor", "Friday", 4),
        ("Cara Diaz", "Sakura House", "Sunday", 3),
        ("Dev Patel", "Green Fork", "Tuesday", 6),
        ("Eva Novak", "Blue Door", "Saturday", 5),
        ("Finn Berg", "Casa Sol", "Thursday", 2),
        ("Gia Rossi", "Old Mill", "Wednesday", 8),
        ("Hal Ito", "Harbor Grill", "Monday", 3),
        ("Ida Moss", "Red Lantern", "Friday", 4),
        ("Jon Park", "Olive Tree", "Sunday", 2),
    ]
]


def test_extraction_writes_a_group_of_texts_per_call_then_extracts_each_behind_one_shared_prefix(make_project):
    names = ["Kim Wu", "Lars Ek", "Mia Roy", "Ned Hart"]

    def reply(text):
        if text.startswith("Input text:"):
            name = text.split("Booking for ")[1].split(" at ")[0]
            return json.dumps({"name": name, "restaurant": "Teal Spoon"})
        return "\n".join(
            f"{n}. Booking for {name} at Teal Spoon on {n} May for {n + 1} guests." for n, name in enumerate(names, 1)
        )

    with LoopbackServer(_script(reply)) as server:
        project = make_project(
            config={
                "task_type": "information_extraction",
                "description": "Extract the guest's name and the restaurant from a booking message.",
                "output_schema": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "restaurant": {"type": "string"}},
                },
                "teacher": {"backend": "openai", "model": "fake", "base_url": server.url + "/v1"},
                "generation": {"per_call": 4, "prompt_style": "listed"},
                "validation": {"novelty": False, "length": False},
            },
            seeds=EXTRACTION_SEEDS,
        )
        result = germinate("generate", project, "--n", "4")
    assert result.returncode == 0, result.stderr
    calls = _generation_calls(server)
    texts = [c for c in calls if "Requests:" in last_user_text(c.body)]
    extracts = [c for c in calls if last_user_text(c.body).startswith("Input text:")]
    assert len(texts) == 1 and len(extracts) == 4
    # every extraction call has the same system message: a server reuses all of it
    assert len({c.body["messages"][0]["content"] for c in extracts}) == 1
    accepted = [r for r in _rows(project / "runs" / "default" / "accepted.jsonl") if r["source"] == "synthetic"]
    assert [r["record"]["output"]["name"] for r in accepted] == names
    assert [r["item"] for r in accepted] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    "text,count,items",
    [
        ("1. a\n2. b\n3. c", 3, ["a", "b", "c"]),
        ("Here you go:\n\n1. a\n2. b", 2, ["a", "b"]),  # preamble dropped
        ("**1.** a\n**2.** b", 2, ["a", "b"]),
        ("1) a\n3) c", 3, ["a", None, "c"]),  # a skipped number: that item is missing
        ("1. a\n2.\n3. c", 3, ["a", None, "c"]),  # an empty item
        ("1. first line\nsecond line\n2. b", 2, ["first line\nsecond line", "b"]),  # multi-line items
        ("1. Pay by:\n1. cash\n2. b", 2, ["Pay by:\n1. cash", "b"]),  # a number out of sequence stays text
        ("1. a\n2. b\n3. c\n4. d", 2, ["a", "b"]),  # items past the count dropped
        ("- a\n- b", 2, ["a", "b"]),  # bullets instead of numbers
        ("just one text", 1, ["just one text"]),
        ("just one text", 2, [None, None]),
        ("", 2, [None, None]),
    ],
)
def test_numbered_items(text, count, items):
    from germinate.tasks.parsing import numbered_items

    assert numbered_items(text, count) == items
