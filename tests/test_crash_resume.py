"""kill -9 a real `germinate generate` at 10 random moments: nothing accepted is lost, nothing is
duplicated, no finished teacher call is paid for twice, and the final accepted set equals that of
an uninterrupted run with the same seed. Once with one example per call, once with several per
call (a kill then lands in the middle of a call's batch of examples)."""

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter

import pytest
from conftest import GERMINATE
from fake_teacher import fake_teacher

pytestmark = pytest.mark.slow

N = 150
KILLS = 10
# per teacher call, so that the run lasts long enough for every kill to land mid-work
STYLES = {
    "one-per-call": ({"batch_size": 4, "per_call": 1, "prompt_style": "single"}, 0.1),
    "four-per-call": ({"batch_size": 8, "per_call": 4, "prompt_style": "listed"}, 0.4),
}


def _project(make_project, server, generation):
    return make_project(
        config={
            "task_type": "classification",
            "description": "Classify a product review as positive or negative.",
            "labels": ["positive", "negative"],
            "teacher": {"backend": "openai", "model": "fake", "base_url": server.url + "/v1", "concurrency": 4},
            "generation": generation,
        }
    )


def _accepted(project):
    return [json.loads(line) for line in (project / "runs" / "default" / "accepted.jsonl").read_text().splitlines()]


def _bodies(server):
    return Counter(json.dumps(c.body, sort_keys=True) for c in server.calls)


@pytest.mark.parametrize("style", list(STYLES))
def test_kill_at_random_moments_then_resume(make_project, style):
    generation, delay = STYLES[style]
    with fake_teacher(delay) as clean_server:
        clean = _project(make_project, clean_server, generation)
        subprocess.run(GERMINATE + ["generate", str(clean), "--n", str(N)], check=True, capture_output=True)
        clean_bodies = _bodies(clean_server)
    rng = random.Random(2024)
    kills = starts = 0
    with fake_teacher(delay) as server:
        project = _project(make_project, server, generation)
        while kills < KILLS and starts < 3 * KILLS:
            starts += 1
            process = subprocess.Popen(
                GERMINATE + ["generate", str(project), "--n", str(N)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.5, 2.0))
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                kills += 1
            process.wait()
        final = subprocess.run(GERMINATE + ["generate", str(project), "--n", str(N)], capture_output=True, text=True)
        assert final.returncode == 0, final.stderr
        bodies = _bodies(server)
    assert kills == KILLS, "the run finished before every kill landed"

    got, want = _accepted(project), _accepted(clean)
    assert [(r["id"], r["record"], r.get("theta")) for r in got] == [
        (r["id"], r["record"], r.get("theta")) for r in want
    ]
    assert len({r["id"] for r in got}) == len(got)
    candidates = [
        json.loads(line) for line in (project / "runs" / "default" / "candidates.jsonl").read_text().splitlines()
    ]
    assert [c["index"] for c in candidates] == list(range(len(candidates)))

    # the same calls overall; a call is sent again only if it was still in flight when killed
    # (identical prompts can recur at different example indexes, so compare with the clean run's
    # count for each body rather than with one)
    assert set(bodies) == set(clean_bodies)
    repeated = sum(max(0, count - clean_bodies[body]) for body, count in bodies.items())
    assert repeated <= kills * 4
