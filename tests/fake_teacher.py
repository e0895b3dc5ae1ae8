"""A deterministic teacher behind a real loopback OpenAI-compatible server, for generation tests:
it answers labelling prompts with a label, generation prompts with a varied example built from a
hash of the prompt (a prompt with numbered requests gets a numbered list, one example per
request), some of them broken on purpose, and questions about its own examples with the label it
wrote them for."""

import hashlib
import json
import re

from germinate.testing.loopback import Action, LoopbackServer, last_user_text

WORDS = [
    "river",
    "mountain",
    "quantum",
    "ledger",
    "violin",
    "harbor",
    "pepper",
    "comet",
    "saddle",
    "lantern",
    "orbit",
    "meadow",
    "cipher",
    "glacier",
    "tundra",
    "marble",
    "falcon",
    "prism",
    "sonnet",
    "canyon",
    "ember",
    "thistle",
    "beacon",
    "quarry",
]


def answer(prompt: str) -> str:
    digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
    if "Label this example's properties" in prompt:
        return json.dumps({"complexity": ["simple", "moderate", "complex"][digest % 3]})
    if "List" in prompt and "topics" in prompt:
        return '["travel", "food", "money"]'
    requests = re.findall(r"^(\d+)\. (.*)$", prompt.partition("Requests:")[2], re.M)
    if requests:
        return "\n".join(f"{n}. {_one(f'{prompt}#{n}', labelled=True)}" for n, _ in requests)
    return _one(prompt, labelled=bool(re.search(r'correct label is "([^"]+)"', prompt)))


def _one(prompt: str, labelled: bool) -> str:
    digest = int(hashlib.sha256(prompt.encode()).hexdigest(), 16)
    words = [WORDS[(digest >> (5 * i)) % len(WORDS)] for i in range(3 + digest % 3)]
    kind = digest % 9
    if kind == 0:
        return "**" + " ".join(words) + "**"  # markdown: the format validator rejects it
    if kind == 1:
        return ""  # empty: a parse failure
    text = "The " + " ".join(words) + " works well"
    return text if labelled else json.dumps({"input": text})


class FakeTeacher:
    """Writes examples with :func:`answer` and remembers which label each text was written for, so
    that asked about that text as the task (a k-shot prompt: the agreement validator, evaluation)
    it gives that label, like a teacher consistent with itself; about any other text it is unsure."""

    def __init__(self) -> None:
        self.written: dict[str, str] = {}

    def reply(self, body: dict) -> str:
        prompt = last_user_text(body)
        if len(body.get("messages", [])) > 2:
            return self.written.get(prompt, "unsure")
        text = answer(prompt)
        requests = re.findall(r"^(\d+)\. (.*)$", prompt.partition("Requests:")[2], re.M)
        if requests:
            for n, request in requests:
                label = re.search(r"\blabel: ([^;]+)", request)
                if label:
                    self.written[_one(f"{prompt}#{n}", labelled=True)] = label.group(1).strip()
            return text
        label = re.search(r'correct label is "([^"]+)"', prompt)
        if label:
            self.written[text] = label.group(1)
        return text


def fake_teacher(delay: float = 0.02) -> LoopbackServer:
    teacher = FakeTeacher()
    return LoopbackServer(lambda call: Action("ok", text=teacher.reply(call.body), delay=delay))
