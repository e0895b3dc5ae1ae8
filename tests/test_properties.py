"""Latent properties: the posterior update on known counts, reproducible sampling, robust parsing
of the teacher's labels and topics."""

import numpy as np
import pytest

from germinate.generate.properties import (
    COMPLEXITY,
    LENGTH,
    Posterior,
    length_fallback,
    match_value,
    parse_labels,
    parse_topics,
    topic_property,
)

pytestmark = pytest.mark.fast


def test_posterior_is_prior_plus_counts():
    labels = [{"complexity": "simple"}] * 6 + [{"complexity": "complex"}] * 3 + [{"complexity": None}]
    posterior = Posterior.from_labels([COMPLEXITY], 1.0, labels)
    assert posterior.alpha(COMPLEXITY).tolist() == [7.0, 1.0, 4.0]
    assert posterior.mean(COMPLEXITY) == pytest.approx({"simple": 7 / 12, "moderate": 1 / 12, "complex": 4 / 12})
    broad = Posterior.from_labels([COMPLEXITY], 10.0, labels)
    assert broad.alpha(COMPLEXITY).tolist() == [16.0, 10.0, 13.0]


def test_samples_follow_the_posterior_and_are_reproducible():
    posterior = Posterior.from_labels([COMPLEXITY, LENGTH], 1.0, [{"complexity": "simple", "length": "long"}] * 20)
    first = [posterior.sample(7, i) for i in range(3000)]
    assert first == [posterior.sample(7, i) for i in range(3000)]
    assert first != [posterior.sample(8, i) for i in range(3000)]
    share = np.mean([t["complexity"] == "simple" for t in first])
    assert share == pytest.approx(21 / 23, abs=0.03)  # the posterior predictive
    # a sample depends only on (seed, index): order and batching cannot change it
    assert posterior.sample(7, 2999) == first[2999]


@pytest.mark.parametrize(
    "text,expected",
    [
        ('{"complexity": "moderate", "length": "short"}', {"complexity": "moderate", "length": "short"}),
        (
            'Sure! ```json\n{"complexity": "Complex", "length": "LONG"}\n```',
            {"complexity": "complex", "length": "long"},
        ),
        ('{"complexity": "very hard", "length": "medium"}', {"complexity": None, "length": "medium"}),
        ("complexity: simple\nlength: medium", {"complexity": "simple", "length": "medium"}),
        ('{"complexity": "simple or moderate"}', {"complexity": None, "length": None}),
        ("I cannot label this.", {"complexity": None, "length": None}),
    ],
)
def test_label_parsing(text, expected):
    assert parse_labels(text, [COMPLEXITY, LENGTH]) == expected


def test_match_value():
    assert match_value("Moderate", COMPLEXITY.values) == "moderate"
    assert match_value("it is rather complex", COMPLEXITY.values) == "complex"
    assert match_value(3, COMPLEXITY.values) is None


def test_topics_are_cleaned_and_deduplicated():
    reply = "Here are topics:\n1. Geography\n2) History of Rome\n- geography\n* Sports.\n\nThis is a sentence that is far too long to be a topic name"
    assert parse_topics(reply) == ["Here are topics", "Geography", "History of Rome", "Sports"]
    assert parse_topics('["Cars", "cars", "Music "]') == ["Cars", "Music"]
    assert topic_property(["Cars", "Music"]).instruction("Cars") == "The example should be about Cars."


def test_length_fallback_uses_seed_terciles():
    assert length_fallback([1, 2, 3, 4, 5, 6, 7, 8, 9]) == ["short"] * 3 + ["medium"] * 3 + ["long"] * 3
