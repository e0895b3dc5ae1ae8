"""The agreement validator with the real embedded teacher (llama.cpp, offline): candidates with
their true label pass, the same texts with the label swapped are rejected with the teacher's
answer, and a replay answers every question from the cache."""

import json

import pytest
from conftest import germinate

from germinate.testing import SAMPLE_CONFIG

pytestmark = pytest.mark.slow

REVIEWS = {
    "positive": [
        "Brilliant kettle, boils fast and looks great on the counter.",
        "I love these headphones, the sound is rich and clear.",
        "Excellent quality shoes, comfortable from the very first day.",
        "Fantastic service, the replacement arrived the next morning.",
        "The best blender I have owned, smooth results every time.",
        "Really happy with this lamp, bright and easy to set up.",
    ],
    "negative": [
        "Terrible kettle, it leaked and stopped working after two days.",
        "I hate these headphones, the sound crackles and the band snapped.",
        "Awful shoes, the sole came off within a week of wearing.",
        "Horrible service, nobody answered and my refund never came.",
        "The worst blender ever, it smells of burning and barely spins.",
        "Very disappointed with this lamp, it flickers and arrived cracked.",
    ],
}


def test_local_teacher_keeps_true_labels_and_rejects_swapped_ones(make_project):
    project = make_project(config={**SAMPLE_CONFIG, "validation": {"agreement": {}, "novelty": False, "length": False}})
    candidates = []
    for label, texts in REVIEWS.items():
        other = "negative" if label == "positive" else "positive"
        for i, text in enumerate(texts):
            candidates.append({"id": f"true-{label}-{i}", "record": {"input": text, "output": label}})
            candidates.append({"id": f"swapped-{label}-{i}", "record": {"input": text, "output": other}})
    run = project / "runs" / "default"
    run.mkdir(parents=True)
    (run / "candidates.jsonl").write_text("".join(json.dumps(c) + "\n" for c in candidates))

    first = germinate("validate", project, "--apply", check=0, timeout=1200)
    # 24 questions, one per candidate; a true and a swapped candidate share their text, so the
    # question is the same and only the 12 distinct texts are real calls
    assert "asked the teacher 24 times" in first.stdout, first.stdout
    assert "12 not in the cache and sent as real calls" in first.stdout, first.stdout
    accepted = {r["id"] for r in map(json.loads, (run / "accepted.jsonl").read_text().splitlines())}
    rejected = {r["id"]: r for r in map(json.loads, (run / "rejected.jsonl").read_text().splitlines())}
    true_kept = sum(1 for c in candidates if c["id"].startswith("true") and c["id"] in accepted)
    swapped_out = [r for key, r in rejected.items() if key.startswith("swapped")]
    assert true_kept >= 10, rejected
    assert len(swapped_out) >= 10, accepted
    for row in swapped_out:
        assert row["validator"] == "agreement" and row["detail"]["teacher_answer"]

    again = germinate("validate", project, "--apply", check=0, timeout=600)
    assert "24 answered from the cache" in again.stdout and "real calls" not in again.stdout
