"""Task metrics on hand-checked cases; model output is never executed."""

import json
import random

import pytest
from germinate_tool_calling.call_syntax import parse_python_call

from germinate.evaluate.judge import obviously_equal
from germinate.evaluate.perturb import perturb
from germinate.plugins import get_plugins
from germinate.tasks.metrics import cohen_kappa, exact_match, normalize_answer, token_f1

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
    assert _tool(prediction).metrics["exact"] == float(correct)


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
    for name in ("open_book_qa", "closed_book_qa"):
        assert get_plugins().task_types[name].score("Paris", {"answer": "Paris"}, {}).correct is None
    extraction = get_plugins().task_types["information_extraction"]
    assert extraction.score('{"city": "Paris"}', {"output": {"city": "Paris"}}, {}).correct is None


# -- shared answer metrics (SQuAD) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,normalised",
    [
        ("The Beatles", "beatles"),
        ("  A  man, a plan, a canal: Panama! ", "man plan canal panama"),
        ("Theatre and the  theory", "theatre and theory"),  # articles only as whole words
        ("U.S.A.", "usa"),
        ("It's 3.5%", "its 35"),
        ("An", ""),
        ("Żółć — ok", "żółć — ok"),  # SQuAD strips ASCII punctuation only
    ],
)
def test_squad_normalisation(text, normalised):
    assert normalize_answer(text) == normalised


def test_token_f1_and_exact_match_by_hand():
    # prediction tokens [cat, sat, on, mat], reference [cat, on, mat]: 3 shared, P 3/4, R 1
    assert token_f1("The cat sat on the mat.", "cat on mat") == pytest.approx(2 * 0.75 * 1 / 1.75)
    # bags of words, not sets: "a a b" vs "a b b" share one a and one b: P = R = 2/3
    assert token_f1("x x y", "x y y") == pytest.approx(2 / 3)
    assert token_f1("Paris", "London") == 0.0
    assert token_f1("", "") == 1.0 and token_f1("nothing", "") == 0.0 and token_f1("", "Paris") == 0.0
    assert exact_match("the Eiffel  Tower!", "Eiffel tower") == 1.0
    assert exact_match("Eiffel Tower, Paris", "Eiffel Tower") == 0.0


def test_qa_scores_take_the_best_reference_and_rouge_l():
    qa = get_plugins().task_types["closed_book_qa"]
    record = {"question": "q", "answer": "Denver Broncos", "answers": ["Broncos", "the Denver Broncos"]}
    score = qa.score("broncos", record, {})
    assert score.correct is None  # the judge decides the verdict; the metrics stand beside it
    assert score.metrics["exact_match"] == 1.0 and score.metrics["token_f1"] == 1.0
    # ROUGE-L by hand: "a b c d" vs "a c d e": LCS a-c-d = 3, P = R = 3/4
    assert qa.score("a b c d", {"question": "q", "answer": "a c d e"}, {}).metrics["rouge_l"] == pytest.approx(0.75)
    # an unanswerable question (reference ""): only an empty answer is right
    assert qa.score("", {"question": "q", "answer": ""}, {}).metrics == {
        "token_f1": 1.0,
        "exact_match": 1.0,
        "rouge_l": 1.0,
    }
    assert qa.score("1754", {"question": "q", "answer": ""}, {}).metrics["token_f1"] == 0.0


# -- extraction ---------------------------------------------------------------------------------------

CONTRACT = {
    "parties": [
        {"name": "Green Energy Corp.", "role": "Seller", "entity_type": "organization"},
        {"name": "Ann Lee", "role": "Buyer", "entity_type": "individual"},
    ],
    "dates": [{"date": "March 15, 2024", "type": "agreement_date"}],
    "terms": {"price": 2.5, "currency": "USD", "renewal": {"automatic": True, "years": 2}},
}


def _extract(output, reference=CONTRACT):
    return (
        get_plugins()
        .task_types["information_extraction"]
        .score(json.dumps(output), {"input": "x", "output": reference}, {})
    )


def test_nested_extraction_fields_by_hand():
    got = json.loads(json.dumps(CONTRACT))
    got["parties"].reverse()  # list order does not matter: multisets
    got["terms"]["price"] = 2.50  # equal numbers
    got["terms"]["currency"] = " usd "  # case and spacing
    same = _extract(got)
    assert same.metrics == {"field_f1": 1.0, "field_precision": 1.0, "field_recall": 1.0, "exact_match": 1.0}
    # 12 expected leaves: 6 party fields, 2 date fields, 4 term fields (renewal nested two deep)
    assert same.counts == {"tp": 12, "fp": 0, "fn": 0}

    got["dates"][0]["date"] = "March 16, 2024"  # one wrong value: one false positive, one false negative
    got["terms"]["renewal"]["years"] = 3
    del got["parties"][0]["role"]  # one field missing: a false negative
    got["extra"] = "x"  # one field not expected: a false positive
    score = _extract(got)
    assert score.counts == {"tp": 9, "fp": 3, "fn": 3}
    assert score.metrics["field_precision"] == pytest.approx(9 / 12)
    assert score.metrics["field_recall"] == pytest.approx(9 / 12)
    assert score.metrics["field_f1"] == pytest.approx(0.75) and score.metrics["exact_match"] == 0.0
    assert set(score.differences) == {
        "dates[].date: 'March 16, 2024' -> 'March 15, 2024'",
        "terms.renewal.years: 3 -> 2",
        "extra: 'x' -> (none)",
        "parties[].role: (none) -> 'Buyer'",
    }


def test_extraction_micro_average_and_unreadable_output():
    extraction = get_plugins().task_types["information_extraction"]
    records = [{"input": "a", "output": {"k": ["x", "y", "z", "w"]}}, {"input": "b", "output": {"k": []}}]
    scores = [extraction.score('{"k": ["y", "x"]}', records[0], {}), extraction.score("no json here", records[1], {})]
    assert scores[0].metrics["field_recall"] == 0.5 and scores[0].metrics["field_precision"] == 1.0
    # unreadable output scores nothing, even against an empty reference, and is wrong without a judge
    assert scores[1].correct is False and scores[1].error_type == "unparseable"
    assert scores[1].metrics["field_f1"] == 0.0
    values = extraction.aggregate(scores, records, {})
    # summed counts: tp 2, fp 0 + 1, fn 2 -> P 2/3, R 2/4
    assert values["field_precision"] == pytest.approx(2 / 3) and values["field_recall"] == pytest.approx(0.5)
    assert values["field_f1"] == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))


# -- tool calling: the BFCL-style AST check -------------------------------------------------------

BFCL_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "set_thermostat",
            "parameters": {
                "type": "object",
                "properties": {
                    "room": {"type": "string"},
                    "temperature": {"type": "number"},
                    "hold_hours": {"type": "integer"},
                    "eco": {"type": "boolean", "default": False},
                },
                "required": ["room", "temperature"],
            },
        },
    },
    {"type": "function", "function": {"name": "lock_door", "parameters": {"type": "object", "properties": {}}}},
]
THERMOSTAT = {"input": "x", "output": {"name": "set_thermostat", "arguments": {"room": "Kitchen", "temperature": 21.0}}}


@pytest.mark.parametrize(
    "prediction,passed,error_type,stages",
    [
        # an integer where a number is declared
        ('{"name": "set_thermostat", "arguments": {"room": "Kitchen", "temperature": 21}}', True, None, (1, 1, 1, 1)),
        # argument order does not matter
        ('{"name": "set_thermostat", "arguments": {"temperature": 21.0, "room": "Kitchen"}}', True, None, (1, 1, 1, 1)),
        # the default-valued argument spelled out, or left out (the reference leaves it out)
        (
            '{"name": "set_thermostat", "arguments": {"room": "Kitchen", "temperature": 21, "eco": false}}',
            True,
            None,
            (1, 1, 1, 1),
        ),
        # values equal after string normalisation pass the AST check, not the exact stage
        ('{"name": "set_thermostat", "arguments": {"room": " kitchen", "temperature": 21}}', True, None, (1, 1, 1, 0)),
        # an extra argument
        (
            '{"name": "set_thermostat", "arguments": {"room": "Kitchen", "temperature": 21, "hold_hours": 2}}',
            False,
            "extra_argument",
            (1, 1, 0, 0),
        ),
        # an argument the schema does not know
        (
            '{"name": "set_thermostat", "arguments": {"room": "Kitchen", "temperature": 21, "fan": 1}}',
            False,
            "extra_argument",
            (1, 1, 0, 0),
        ),
        # a required argument missing
        ('{"name": "set_thermostat", "arguments": {"room": "Kitchen"}}', False, "missing_argument", (1, 1, 0, 0)),
        # a string where a number is declared
        (
            '{"name": "set_thermostat", "arguments": {"room": "Kitchen", "temperature": "21"}}',
            False,
            "wrong_type",
            (1, 1, 1, 0),
        ),
        (
            '{"name": "set_thermostat", "arguments": {"room": "Kitchen", "temperature": 22}}',
            False,
            "wrong_value",
            (1, 1, 1, 0),
        ),
        ('{"name": "lock_door", "arguments": {}}', False, "wrong_tool", (1, 0, 0, 0)),
        ("set_thermostat(room='Kitchen', temperature=21)", True, None, (1, 1, 1, 1)),
        ("I would set it to 21 degrees.", False, "unparseable", (0, 0, 0, 0)),
    ],
)
def test_bfcl_style_ast_check(prediction, passed, error_type, stages):
    score = get_plugins().task_types["tool_calling"].score(prediction, THERMOSTAT, {"tools": BFCL_TOOLS})
    assert score.correct is passed and score.metrics["ast"] == float(passed)
    assert score.error_type == error_type
    names = ("valid_call", "right_tool", "right_keys", "exact")
    assert tuple(score.metrics[n] for n in names) == tuple(float(s) for s in stages)
    assert score.metrics["staged"] == pytest.approx(sum(stages) / 4)


def test_an_integer_parameter_does_not_take_a_float_or_a_boolean():
    reference = {
        "input": "x",
        "output": {"name": "set_thermostat", "arguments": {"room": "a", "temperature": 20, "hold_hours": 2}},
    }
    tools = {"tools": BFCL_TOOLS}
    task = get_plugins().task_types["tool_calling"]
    for value in ("2.5", "true"):
        prediction = (
            f'{{"name": "set_thermostat", "arguments": {{"room": "a", "temperature": 20, "hold_hours": {value}}}}}'
        )
        assert task.score(prediction, reference, tools).error_type == "wrong_type"


def test_tool_call_mistakes_are_readable_fields():
    reference = {"input": "x", "output": {"name": "git_log", "arguments": {"limit": 8, "filter": {"author": "ann"}}}}
    score = _tool(
        '{"name": "git_log", "arguments": {"limit": 5, "graph": true, "filter": {"author": "bob"}}}', reference
    )
    # graph was left out of the reference: its schema default (false) is what is expected
    assert score.differences == (
        'arguments.filter: {"author": "bob"} -> {"author": "ann"}',
        "arguments.graph: true -> false",
        "arguments.limit: 5 -> 8",
    )


def test_malicious_output_is_never_executed_by_any_metric(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    plugins = get_plugins().task_types
    assert plugins["tool_calling"].score(payload, THERMOSTAT, {"tools": BFCL_TOOLS}).error_type == "unparseable"
    assert plugins["information_extraction"].score(payload, {"output": {"a": 1}}, {}).error_type == "unparseable"
    assert plugins["open_book_qa"].score(payload, {"answer": "x"}, {}).metrics["exact_match"] == 0.0
    assert plugins["classification"].score(payload, {"output": "a"}, {"labels": ["a", "b"]}).correct is False
    assert not marker.exists()


# -- classification: macro-F1 and the confusion matrix -------------------------------------------


def test_macro_f1_and_confusion_matrix_by_hand():
    task = get_plugins().task_types["classification"]
    config = {"labels": ["cat", "dog", "eel"]}
    pairs = [("cat", "cat"), ("cat", "dog"), ("dog", "dog"), ("dog", "dog"), ("eel", "mumble"), ("eel", "eel")]
    records = [{"input": str(i), "output": ref} for i, (ref, _) in enumerate(pairs)]
    scores = [task.score(answer, record, config) for (_, answer), record in zip(pairs, records)]
    values = task.aggregate(scores, records, config)
    assert values["accuracy"] == pytest.approx(4 / 6)
    # cat: tp 1, fn 1 -> 2/3; dog: tp 2, fp 1 -> 4/5; eel: tp 1, fn 1 (not a label) -> 2/3
    assert values["macro_f1"] == pytest.approx((2 / 3 + 4 / 5 + 2 / 3) / 3)
    confusion = task.breakdown(scores, records, config)["confusion"]
    assert confusion["columns"] == ["cat", "dog", "eel", "(not a label)"]
    assert confusion["matrix"] == [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 1, 1]]


# -- Cohen's kappa and perturbations -------------------------------------------------------------


def test_cohen_kappa_by_hand():
    gold = [True, False, False, False]
    # observed agreement 3/4; chance 1/2 * 1/4 + 1/2 * 3/4 = 1/2 -> kappa (3/4 - 1/2) / (1/2) = 1/2
    assert cohen_kappa([True, True, False, False], gold) == pytest.approx(0.5)
    assert cohen_kappa([True] * 4, gold) == 0.0  # always yes: no better than chance
    assert cohen_kappa(gold, gold) == 1.0
    # never agreeing: observed 0, chance 3/4 * 1/4 + 1/4 * 3/4 = 3/8 -> (0 - 3/8) / (5/8)
    assert cohen_kappa([False, True, True, True], gold) == pytest.approx(-0.6)
    assert cohen_kappa([True, True], [True, True]) is None and cohen_kappa([], []) is None


@pytest.mark.parametrize(
    "reference",
    [
        "yes",
        "No",
        "1993",
        "Kazu Makino",
        "The western empire collapsed in 476 AD.",
        "the river is long",
        '{"parties": [{"name": "Ann Lee", "role": "Buyer"}], "dates": []}',
        '{"total": 12, "paid": true}',
    ],
)
def test_perturbed_answers_differ_from_the_reference(reference):
    others = ["Gene Quintano", "Robert Hays", '{"parties": [{"name": "Bob Roe", "role": "Seller"}], "dates": []}']
    perturbed = perturb(reference, others, random.Random(0))
    assert perturbed is not None and not obviously_equal(perturbed, reference)
    assert perturb(reference, others, random.Random(0)) == perturbed  # seeded: the same every time
