"""Task metrics on hand-checked cases; model output is never executed."""

import pytest
from germinate_tool_calling.call_syntax import parse_python_call

from germinate.plugins import get_plugins

pytestmark = pytest.mark.fast

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "git_log",
            "parameters": {
                "type": "object",
                "properties": {
                    "limit": {"type": "integer"},
                    "graph": {"type": "boolean", "default": False},
                    "filter": {
                        "type": "object",
                        "properties": {"author": {"type": "string"}, "paths": {"type": "array"}},
                    },
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "git_add",
            "parameters": {"type": "object", "properties": {"files": {"type": "array", "items": {"type": "string"}}}},
        },
    },
]
REF = {
    "input": "x",
    "output": {"name": "git_log", "arguments": {"limit": 8, "filter": {"author": "ann", "paths": ["a", "b"]}}},
}


def _tool(prediction, reference=REF):
    return get_plugins().task_types["tool_calling"].score(prediction, reference, {"tools": TOOLS})


@pytest.mark.parametrize(
    "prediction,correct",
    [
        ('{"name": "git_log", "arguments": {"limit": 8, "filter": {"author": "ann", "paths": ["a", "b"]}}}', True),
        (
            '{"arguments": {"filter": {"paths": ["a", "b"], "author": "ann"}, "limit": 8}, "name": "git_log"}',
            True,
        ),  # order
        (
            '{"name": "git_log", "arguments": {"limit": 8, "graph": false, "filter": {"author": "ann", "paths": ["a", "b"]}}}',
            True,
        ),  # default spelled out
        (
            '{"name": "git_log", "arguments": {"limit": 8, "graph": true, "filter": {"author": "ann", "paths": ["a", "b"]}}}',
            False,
        ),
        (
            '{"name": "git_log", "arguments": {"limit": 8, "filter": {"author": "ann", "paths": ["b", "a"]}}}',
            False,
        ),  # list order matters
        (
            '{"name": "git_log", "arguments": "{\\"limit\\": 8, \\"filter\\": {\\"author\\": \\"ann\\", \\"paths\\": [\\"a\\", \\"b\\"]}}"}',
            True,
        ),
        ("git_log(limit=8, filter={'author': 'ann', 'paths': ['a', 'b']})", True),  # Python-literal call
        (
            'Sure: {"name": "git_log", "arguments": {"limit": 8, "filter": {"author": "ann", "paths": ["a", "b"]}}} done',
            True,
        ),
        ('{"name": "git_add", "arguments": {"files": ["a"]}}', False),
        ('{"name": "git_log", "arguments": {"limit": 8', False),  # truncated: repaired, but wrong
        ("I would run git log.", False),
    ],
)
def test_tool_call_exact_match(prediction, correct):
    assert _tool(prediction).correct is correct


def test_malicious_python_literal_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [
        f"__import__('os').system('touch {marker}')",
        f"git_log(limit=__import__('os').system('touch {marker}'))",
        f"git_log(**{{'limit': open('{marker}', 'w')}})",
        f"(lambda: open('{marker}', 'w'))()",
    ]
    for payload in payloads:
        assert parse_python_call(payload) is None
        score = _tool(payload)
        assert score.correct is False and score.error == "no tool call in the prediction"
    assert not marker.exists()


@pytest.mark.parametrize(
    "prediction,correct",
    [
        ("location", True),
        ("Location.", True),
        ('"location"', True),
        ("location\nbecause it asks where", True),
        ("human", False),
        ("The answer is location", False),
        ("", False),
    ],
)
def test_classification_accuracy(prediction, correct):
    config = {"labels": ["human", "location", "numeric"]}
    score = get_plugins().task_types["classification"].score(prediction, {"input": "q", "output": "location"}, config)
    assert score.correct is correct


def test_free_text_families_ask_for_a_judge():
    for name in ("open_book_qa", "closed_book_qa", "information_extraction"):
        assert get_plugins().task_types[name].score("Paris", {"answer": "Paris"}, {}).correct is None
