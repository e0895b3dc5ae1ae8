"""The structure and grounding validators on hand-made cases (the issue's examples among them), through
the real plugin registry, and on the shared datasets' gold test rows, which they must let through."""

import json

import pytest

from germinate.plugins import get_plugins
from germinate.validate.base import TaskContext

pytestmark = pytest.mark.fast


def _check(validator, seeds, task_type, **config):
    task = TaskContext(get_plugins().task_types[task_type], {"task_type": task_type, **config})
    return get_plugins().validators[validator].prepare(seeds, {}, task)


MOVIES = {
    "description": "Route a smart-speaker request to its intent. Intents: PlayMusic (play a song, album, "
    "artist, genre or playlist), GetWeather, SearchScreeningEvent (movie times at cinemas), AddToPlaylist.",
    "labels": ["PlayMusic", "GetWeather", "SearchScreeningEvent", "AddToPlaylist"],
}
MOVIE_SEEDS = [
    {"input": "play some jazz from the fifties", "output": "PlayMusic"},
    {"input": "will it rain in Lisbon tomorrow", "output": "GetWeather"},
    {"input": "when is Dune showing at the Odeon", "output": "SearchScreeningEvent"},
    {"input": "add this tune to my road trip list", "output": "AddToPlaylist"},
    {"input": "is it going to be windy this weekend", "output": "GetWeather"},
]


@pytest.mark.parametrize(
    "text,check,says",
    [
        # two examples glued together
        ("will it snow in Oslo\nplay the new Adele album", "lines", "2 lines, no seed has more than 1"),
        # a label name at the start, as in the issue
        ("SearchScreeningEvent: What's playing at the Rex tonight", "names", "'SearchScreeningEvent'"),
        ("what's on at the cinema -> searchscreeningevent", "names", "'SearchScreeningEvent'"),
        # the task description echoed, as in the issue
        ("play a song, album, artist, genre or playlist", "copies", "copies the task description"),
        # a mutation instruction copied
        (
            "The example should be of moderate complexity: some detail, or one extra condition.",
            "copies",
            "copies a generation instruction",
        ),
        # the prompt template's own wording
        ("Write one new input for this task whose correct label is GetWeather", "names", "'GetWeather'"),
        ("Write one new input for this task whose correct label is", "copies", "copies the generation prompt"),
        # teacher preambles and list markers
        ("Sure! Here is a new example: will it be sunny in Rome", "preambles", "a teacher preamble"),
        ("The new text is: will it be sunny in Rome", "preambles", "a teacher preamble"),
        ("Input: will it be sunny in Rome", "preambles", "a label before the text"),
        ("1. **Weather in Rome** will it be sunny", "preambles", "a list marker"),
        ("**Weather in Rome** will it be sunny", "preambles", "markdown emphasis"),
    ],
)
def test_structure_rejects(text, check, says):
    verdict = _check("structure", MOVIE_SEEDS, "classification", **MOVIES).check(
        {"input": text, "output": "GetWeather"}
    )
    assert not verdict.accepted, text
    assert verdict.detail["check"] == check and says in verdict.reason, verdict.reason


@pytest.mark.parametrize(
    "text",
    [
        "will it rain at the weather station in Bergen",  # an ordinary word, no tag
        "what is the weather like for the Play Music festival",  # a label's words, not the label
        "play something by the artist I liked last week",  # four words of the description, not a copy
        "Sure, I'd like to know if it rains in Paris",  # 'Sure' is not a preamble by itself
        "add 2 songs to the list - the ones from yesterday",
    ],
)
def test_structure_accepts_ordinary_inputs(text):
    verdict = _check("structure", MOVIE_SEEDS, "classification", **MOVIES).check({"input": text, "output": "PlayMusic"})
    assert verdict.accepted, verdict.reason


QUESTIONS = [
    {"input": q, "output": label}
    for q, label in [
        ("What does NASA stand for?", "abbreviation"),
        ("Who painted the Mona Lisa?", "human"),
        ("Where is Lake Titicaca?", "location"),
        ("How many legs does a spider have?", "numeric"),
        ("What is an atom?", "description"),
        ("What colour is a ripe lime?", "entity"),
    ]
]
TREC = {
    "description": "Classify a question by the kind of answer it asks for.",
    "labels": ["abbreviation", "description", "entity", "human", "location", "numeric"],
}


@pytest.mark.parametrize(
    "text,check",
    [
        ('The correct answer is "entity".', "names"),  # seen accepted in a trec run
        ("How many years is a typical year on Earth? location", "names"),  # and this
        ('What is the best thirst-quencher? The label is "entity"?', "names"),
        ('The answer to "What is the best thirst-quencher?" is:', "preambles"),  # a lead-in, its text missing
        ("A spacecraft is named Apollo 11.", "endings"),  # a statement where every seed asks a question
    ],
)
def test_structure_on_question_tasks(text, check):
    verdict = _check("structure", QUESTIONS, "classification", **TREC).check({"input": text, "output": "entity"})
    assert not verdict.accepted and verdict.detail["check"] == check, verdict.reason


def test_structure_allows_what_the_seeds_do():
    seeds = [
        *MOVIE_SEEDS,
        {"input": "GetWeather please: is it hot in Cairo\nand in Giza", "output": "GetWeather"},
        {"input": "- play my running mix\n- shuffle it", "output": "PlayMusic"},
    ]
    check = _check("structure", seeds, "classification", **MOVIES)
    assert check.check({"input": "GetWeather please: will it hail", "output": "GetWeather"}).accepted
    assert check.check({"input": "- play some rock\n- loud", "output": "PlayMusic"}).accepted
    # a seed with two lines allows two, not five
    verdict = check.check({"input": "a\nb\nc\nd\ne", "output": "PlayMusic"})
    assert not verdict.accepted and verdict.detail["check"] == "lines"


def test_structure_names_tools_anywhere_and_checks_every_text_field():
    tools = [{"type": "function", "function": {"name": "set_timer", "parameters": {"type": "object"}}}]
    seeds = [{"input": "wake me in ten minutes", "output": {"name": "set_timer", "arguments": {}}}]
    verdict = _check("structure", seeds, "tool_calling", description="Call a tool.", tools=tools).check(
        {"input": "please call set_timer for 5 minutes", "output": {"name": "set_timer", "arguments": {}}}
    )
    assert not verdict.accepted and "'set_timer'" in verdict.reason
    qa_seeds = [{"context": "c", "question": "Who wrote it?", "answer": "Ann"}]
    qa = _check("structure", qa_seeds, "open_book_qa", description="Answer from the context.")
    verdict = qa.check({"context": "c", "question": "Who wrote it?", "answer": "Ann\nExplanation: the text says so"})
    assert not verdict.accepted and verdict.reason.startswith("answer: 2 lines")


def test_structure_checks_switch_off_one_by_one():
    task = TaskContext(get_plugins().task_types["classification"], {"task_type": "classification", **MOVIES})
    check = get_plugins().validators["structure"].prepare(MOVIE_SEEDS, {"names": False}, task)
    assert check.check({"input": "SearchScreeningEvent: what's on tonight", "output": "GetWeather"}).accepted


BOOKING = {
    "description": "Extract the booking details from a restaurant booking message.",
    "output_schema": {
        "type": "object",
        "properties": {
            "restaurant_name": {"type": "string"},
            "city": {"type": "string"},
            "date": {"type": "string"},
            "party_size": {"type": "integer"},
            "occasion": {"enum": ["birthday", "business", "none"]},
            "day_of_week": {"type": "string", "x-derived": True},
        },
    },
}
BOOKING_SEEDS = [
    {
        "input": "Table for 4 at Nando's in Leeds on 3 May, it's a birthday",
        "output": {"restaurant_name": "Nando's", "city": "Leeds", "date": "3 May", "party_size": 4},
    },
    {
        "input": "Could I book Chez Paul, Lyon, for Friday 12 June? Two of us.",
        "output": {"restaurant_name": "Chez Paul", "city": "Lyon", "date": "Friday 12 June", "party_size": 2},
    },
]


@pytest.mark.parametrize(
    "output,says",
    [
        # the examples
        ({"city": "null"}, "output.city: 'null' is a placeholder"),
        ({"city": "N/A"}, "output.city: 'N/A' is a placeholder"),
        ({"restaurant_name": "KFC", "city": "Houston"}, "output.restaurant_name: 'KFC' does not occur in the input"),
        ({"city": "Houston"}, "output.city: 'Houston' does not occur in the input"),
    ],
)
def test_grounding_rejects_values_the_text_does_not_hold(output, says):
    check = _check("grounding", BOOKING_SEEDS, "information_extraction", **BOOKING)
    record = {"input": "Hi, a table for three people at that time on Sunday please", "output": output}
    verdict = check.check(record)
    assert not verdict.accepted and verdict.reason.startswith(says), verdict.reason


def test_grounding_accepts_normalised_occurrences_enums_derived_fields_and_numbers():
    check = _check("grounding", BOOKING_SEEDS, "information_extraction", **BOOKING)
    record = {
        "input": "Book  THE IVY (Covent-Garden) for 1,200 guests on Sunday,  May 3rd!",
        "output": {
            "restaurant_name": "The Ivy",
            "city": "covent garden",
            "date": "Sunday, May 3rd",
            "party_size": 1200,
            "occasion": "none",  # an enum value: chosen, not copied
            "day_of_week": "Sunday (derived)",  # x-derived: not checked
        },
    }
    assert check.check(record).accepted
    assert check.check(
        {"input": "Party of 1,200 at Rex", "output": {"restaurant_name": "Rex", "date": "1200"}}
    ).accepted


def test_grounding_learns_derived_fields_and_seed_values_from_the_seeds():
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "role": {"type": "string"}, "note": {"type": "string"}},
    }
    seeds = [
        {"input": f"{name} signs for the company.", "output": {"name": name, "role": role, "note": "unknown"}}
        for name, role in [("Ann Lee", "Seller"), ("Bo Chan", "Buyer"), ("Cy Diaz", "Agent"), ("Di Ek", "Seller")]
    ]
    check = _check("grounding", seeds, "information_extraction", description="d", output_schema=schema)
    record = {"input": "Eve Fox signs the lease.", "output": {"name": "Eve Fox", "role": "Lessee", "note": "unknown"}}
    assert check.check(record).accepted  # role: no seed's role is in its text, so it is derived; 'unknown' too
    verdict = check.check({"input": "Eve Fox signs.", "output": {"name": "Gus Ho", "role": "Lessee"}})
    assert not verdict.accepted and verdict.reason == "output.name: 'Gus Ho' does not occur in the input"
    forced = {**schema, "properties": {**schema["properties"], "role": {"type": "string", "x-derived": False}}}
    strict = _check("grounding", seeds, "information_extraction", description="d", output_schema=forced)
    assert not strict.check(record).accepted


def test_grounding_open_book_answers():
    seeds = [
        {"context": "Lima is the capital of Peru.", "question": "What is Peru's capital?", "answer": "Lima"},
        {"context": "The Nile flows north.", "question": "Which way does the Nile flow?", "answer": "north"},
    ]
    check = _check("grounding", seeds, "open_book_qa", description="Answer from the context.")
    context = "Batman (1989) starred Michael Keaton and Kim Basinger, directed by Tim Burton."
    q = "Who was the actress in the first film of the Batman franchise?"
    assert check.check({"context": context, "question": q, "answer": "Kim Basinger"}).accepted
    verdict = check.check({"context": context, "question": q, "answer": "Tom Cruise"})  # the example
    assert not verdict.accepted and verdict.reason == "answer: 'Tom Cruise' does not occur in the context"
    # abstractive: enough of its words in the context
    long_ok = "Michael Keaton starred in Batman, which Tim Burton directed in 1989"
    assert check.check({"context": context, "question": q, "answer": long_ok}).accepted
    long_bad = "It was a famous Hollywood star who later won several awards for drama"
    verdict = check.check({"context": context, "question": q, "answer": long_bad})
    assert not verdict.accepted and "of its words are in the context" in verdict.reason and verdict.score < 0.5
    for answer in ("", "yes", "No"):  # nothing claimed about the context's wording
        assert check.check({"context": context, "question": q, "answer": answer}).accepted


def test_grounding_threshold_is_a_setting():
    seeds = [{"context": "Lima is the capital of Peru.", "question": "Capital?", "answer": "Lima"}]
    task = TaskContext(get_plugins().task_types["open_book_qa"], {"task_type": "open_book_qa", "description": "d"})
    context = "Batman (1989) starred Michael Keaton and Kim Basinger, directed by Tim Burton."
    answer = "Michael Keaton starred in the film, a big success"  # 3 of 7 words (articles aside) in the context
    record = {"context": context, "question": "q", "answer": answer}
    loose = get_plugins().validators["grounding"].prepare(seeds, {"min_overlap": 0.4}, task)
    strict = get_plugins().validators["grounding"].prepare(seeds, {"min_overlap": 0.6}, task)
    assert loose.check(record).accepted and not strict.check(record).accepted


DATASETS = [
    "trec",
    "banking77",
    "ecommerce",
    "mental_health",
    "git_tool_calling",
    "docs_extraction",
    "pii_redaction",
    "hotpotqa",
    "roman_empire_qa",
    "squad2_closed_book",
]


@pytest.mark.parametrize("name", DATASETS)
def test_gold_test_rows_pass(datasets, name):
    """Human-labelled rows are what the validators must keep: on every shared dataset at most 5% of
    the gold test split is rejected by structure or grounding (seeds as the seeds)."""
    folder = datasets / name
    config = json.loads((folder / "task.json").read_text())
    seeds = [json.loads(line) for line in (folder / "seeds.jsonl").read_text().splitlines()]
    test = [json.loads(line) for line in (folder / "test.jsonl").read_text().splitlines()]
    task = TaskContext(get_plugins().task_types[config["task_type"]], config)
    for validator in ("structure", "grounding"):
        check = get_plugins().validators[validator].prepare(seeds, {}, task)
        rejected = [verdict.reason for verdict in map(check.check, test) if not verdict.accepted]
        assert len(rejected) <= 0.05 * len(test), (validator, rejected[:5])
