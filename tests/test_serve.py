"""`germinate serve` as a real endpoint, driven over real sockets against a real student (the
embedded SmolLM2, and a small adapter trained here for the tool-calling example): malformed,
oversized, slow (slowloris), unauthorised and misdirected requests each get the right status while
a well-formed client keeps being answered; the official openai client streams, and gets
``tool_calls`` for a tool-calling project; prompts are cut to the student's budget; `germinate
predict` works on records without outputs."""

import json
import os
import select
import shutil
import socket
import subprocess
import threading
import time

import openai
import pytest
import yaml
from conftest import GERMINATE, REPO, germinate, germinate_serving
from teacher_helpers import free_port

from germinate.testing import SAMPLE_CONFIG, write_project

pytestmark = pytest.mark.slow

KEY = "serve-test-key-5c1e"
LIMITS = {
    "request_timeout": 4,
    "max_request_bytes": 65536,
    "max_tokens": 16,
    "max_prompt_tokens": 200,
    "max_waiting": 3,
}


def serving(project, *args, key=KEY):
    env = {k: v for k, v in os.environ.items() if k != "GERMINATE_API_KEY"}
    if key:
        env["GERMINATE_API_KEY"] = key
    return germinate_serving(project, *args, env=env)


def exchange(port, data, *, pause=None, timeout=30):
    """Send raw bytes (optionally in pieces with pauses, stopping once an answer comes) and read
    one response: (status, headers, body or None); (None, {}, None) when the server closed
    without answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        pieces = data if isinstance(data, list) else [data]
        try:
            for piece in pieces:
                sock.sendall(piece)
                if pause and select.select([sock], [], [], pause)[0]:
                    break  # the server answered
        except OSError:
            pass  # the server may answer (and close) before everything is sent
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                return None, {}, None
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return int(lines[0].split()[1]), headers, json.loads(body[:length]) if length else None


def post(body, *, key=KEY, host="127.0.0.1", extra=""):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    auth = f"Authorization: Bearer {key}\r\n" if key else ""
    return (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{extra}\r\n"
    ).encode() + data


def ask(text, **extra):
    return {"messages": [{"role": "user", "content": text}], "max_tokens": 4, **extra}


@pytest.fixture(scope="module")
def base_project(tmp_path_factory):
    return write_project(tmp_path_factory.mktemp("serve") / "reviews", config={**SAMPLE_CONFIG, "serve": LIMITS})


@pytest.fixture(scope="module")
def base_server(base_project):
    with serving(base_project, "--model", "base") as port:
        yield port


def hostile_cases():
    """(what, request bytes, status); every answer is a JSON error."""
    huge_header = "X-Pad: " + "a" * 70_000 + "\r\n"
    return [
        ("not JSON", post(b"{not json"), 400),
        ("no messages", post({"model": "x"}), 400),
        ("a bad role", post({"messages": [{"role": "robot", "content": "hi"}]}), 400),
        ("max_tokens not a number", post(ask("hi", max_tokens="many")), 400),
        ("max_tokens negative", post(ask("hi", max_tokens=-1)), 400),
        ("NaN", post(b'{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}'), 400),
        ("deep nesting", post(b"[" * 30_000 + b"]" * 30_000), 400),
        ("a lone surrogate", post(b'{"messages": [{"role": "user", "content": "\\udc00"}]}'), 400),
        (
            "negative Content-Length",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Length: -5\r\n\r\n",
            400,
        ),
        (
            "Content-Length not a number",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Length: lots\r\n\r\n",
            400,
        ),
        (
            "no Content-Length",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\n\r\n",
            411,
        ),
        (
            "chunked",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            411,
        ),
        (
            "100 MB announced",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nContent-Length: 100000000\r\n\r\n"
            + b"x" * 1000,
            413,
        ),
        (
            "100 MB announced, expecting 100-continue",
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + KEY.encode()
            + b"\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n",
            413,
        ),
        ("just over the size limit", post(ask("x" * 65_600)), 413),
        ("no API key", post(ask("hi"), key=None), 401),
        ("a wrong API key", post(ask("hi"), key="guess"), 401),
        ("no API key for the model list", b"GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 401),
        ("DNS rebinding", post(ask("hi"), host="evil.example:8000"), 403),
        ("a rebinding look-alike", post(ask("hi"), host="127.0.0.1.evil.example"), 403),
        ("no Host header", b"GET /health HTTP/1.0\r\n\r\n", 400),
        (
            "an unknown route",
            b"GET /admin HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + KEY.encode() + b"\r\n\r\n",
            404,
        ),
        ("an unserved method", b"PUT /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n", 405),
        ("a garbage request line", b"HELLO THERE\r\n\r\n", 400),
        ("a header line over 64 KiB", f"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n{huge_header}\r\n".encode(), 431),
    ]


def test_hostile_requests_get_the_right_status_while_a_client_keeps_being_answered(base_server):
    port = base_server
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0, timeout=120)
    answered, failures, stop = [], [], threading.Event()

    def well_formed():
        while not stop.is_set():
            try:
                reply = client.chat.completions.create(
                    model="sample-sentiment", max_tokens=4, messages=[{"role": "user", "content": "Great lamp!"}]
                )
                answered.append((time.monotonic(), reply.choices[0].message.content))
            except Exception as exc:
                failures.append(repr(exc))

    slow_results = {}

    def slowloris(name, pieces, pause):
        started = time.monotonic()
        slow_results[name] = (exchange(port, pieces, pause=pause), started, time.monotonic())

    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    trickle = [head] + [b"X-Slow: %d\r\n" % i for i in range(40)]  # a header every 0.25 s, forever
    stalled = post(ask("hi"))[:-5]  # the whole head and most of the body, then nothing
    slow = [
        threading.Thread(target=slowloris, args=("headers trickle", trickle, 0.25)),
        threading.Thread(target=slowloris, args=("body stalls", [stalled], None)),
    ]
    client_thread = threading.Thread(target=well_formed)
    client_thread.start()
    deadline = time.monotonic() + 120
    while not answered and not failures and time.monotonic() < deadline:  # the client is under way
        time.sleep(0.1)
    for thread in slow:
        thread.start()
    outcomes = {what: exchange(port, data) for what, data, _ in hostile_cases()}
    for thread in slow:
        thread.join(60)
    time.sleep(1)
    stop.set()
    client_thread.join(120)

    for what, _, status in hostile_cases():
        got, headers, body = outcomes[what]
        assert got == status, (what, got, body)
        assert headers["content-type"] == "application/json" and body["error"]["code"] == status, (what, body)
    assert outcomes["no API key"][1]["www-authenticate"] == "Bearer"
    assert outcomes["just over the size limit"][2]["error"]["message"].endswith("at most 65536 are accepted")
    assert outcomes["max_tokens negative"][2]["error"]["param"] == "max_tokens"
    for name, ((status, _, body), started, ended) in slow_results.items():
        assert status == 408, (name, status, body)
        # cut off after the request time (4 s), and the client was answered meanwhile
        assert any(started < at < ended for at, _ in answered), name
    assert failures == [] and len(answered) >= 3, (failures, len(answered))
    # an idle connection is closed without an answer once the request time is up
    assert exchange(port, b"", timeout=10) == (None, {}, None)


def test_health_and_models(base_server):
    status, _, body = exchange(base_server, b"GET /health HTTP/1.1\r\nHost: localhost:1\r\n\r\n")
    assert (status, body) == (200, {"status": "ok", "model": "sample-sentiment"})
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{base_server}/v1", api_key=KEY, max_retries=0)
    assert [m.id for m in client.models.list().data] == ["sample-sentiment"]
    assert client.models.retrieve("sample-sentiment").id == "sample-sentiment"


def test_long_prompts_are_cut_to_the_budget_and_answered(base_server):
    many = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {i}"} for i in range(801)]
    for body in (ask("word " * 12_000), {"messages": many, "max_tokens": 4}):
        data = post(body)
        assert len(data) < LIMITS["max_request_bytes"]
        status, _, reply = exchange(base_server, data)
        assert status == 200, reply
        assert 0 < reply["usage"]["prompt_tokens"] <= LIMITS["max_prompt_tokens"]
    status, _, reply = exchange(base_server, post(ask("hi", max_tokens=1000)))
    assert status == 200 and reply["usage"]["completion_tokens"] <= LIMITS["max_tokens"]


def test_the_official_client_streams(base_server):
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{base_server}/v1", api_key=KEY, max_retries=0)
    messages = [{"role": "user", "content": "Write one sentence about lamps."}]
    whole = client.chat.completions.create(model="m", messages=messages, max_tokens=16)
    chunks = list(
        client.chat.completions.create(
            model="m", messages=messages, max_tokens=16, stream=True, stream_options={"include_usage": True}
        )
    )
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 2  # text arrives as it is written, not in one piece
    assert "".join(pieces).strip() == whole.choices[0].message.content  # greedy: the same answer
    assert chunks[-1].usage.total_tokens == whole.usage.total_tokens
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason


def test_a_client_that_vanishes_mid_stream_does_not_hold_the_student(base_server):
    with socket.create_connection(("127.0.0.1", base_server)) as sock:
        sock.sendall(post(ask("Tell me a long story about lamps.", max_tokens=16, stream=True)))
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    status, _, reply = exchange(base_server, post(ask("hi")))
    assert status == 200 and reply["choices"][0]["finish_reason"] in ("stop", "length")


def test_more_waiting_requests_than_allowed_get_503(base_server):
    gate = threading.Barrier(LIMITS["max_waiting"] + 3)
    statuses = []

    def one():
        gate.wait()
        status, headers, _ = exchange(base_server, post(ask("word " * 150, max_tokens=16)))
        statuses.append((status, headers.get("retry-after")))

    threads = [threading.Thread(target=one) for _ in range(LIMITS["max_waiting"] + 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert {s for s, _ in statuses} <= {200, 503} and len(statuses) == len(threads)
    assert sum(s == 200 for s, _ in statuses) >= LIMITS["max_waiting"]
    assert any(s == 503 and retry == "1" for s, retry in statuses)


def test_a_non_loopback_bind_is_warned_about(base_project):
    port = free_port()
    process = subprocess.Popen(
        GERMINATE + ["serve", str(base_project), "--model", "base", "--host", "0.0.0.0", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != "GERMINATE_API_KEY"},
    )
    try:
        line = process.stderr.readline().decode()
    finally:
        process.terminate()
        process.wait(30)
    assert line.startswith("germinate: warning: serving on 0.0.0.0, not a loopback address")
    assert "(set --api-key)" in line


def test_long_conversations_lose_their_oldest_turns_first(base_project):
    from germinate.settings import StudentSettings
    from germinate.student.infer import Student

    student = Student.load(StudentSettings())
    system = {"role": "system", "content": "SYSTEM RULES"}
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"turn-{i} " * 8} for i in range(61)]

    def one_by_one(conversation, budget):  # the documented rule, done the slow way
        messages = list(conversation)
        while True:
            text = student.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            if len(student.tokenizer(text, add_special_tokens=False)["input_ids"]) <= budget or len(messages) <= 2:
                return text
            del messages[1]

    def tokens(text):
        return len(student.tokenizer(text, add_special_tokens=False)["input_ids"])

    for budget in (100, 150, 400, 5000):
        text = student.render([system, *turns], budget)
        assert text == one_by_one([system, *turns], budget) and tokens(text) <= budget
        assert "SYSTEM RULES" in text and "turn-60" in text
    text = student.render([system, *turns], 150)
    assert tokens(text) <= 150 and "turn-0 " not in text
    huge = student.render([system, {"role": "user", "content": "BEGINNING " + "word " * 100_000 + "THE END"}], 100)
    assert tokens(huge) <= 100 and huge.rstrip().endswith("assistant") and "THE END" in huge
    assert "BEGINNING" not in huge  # the start of the one turn too long to fit was cut


@pytest.fixture(scope="module")
def smart_home(tmp_path_factory):
    """examples/smart-home trained briefly on its seeds and test rows, under the short system text."""
    project = tmp_path_factory.mktemp("tools") / "smart-home"
    shutil.copytree(REPO / "examples" / "smart-home", project)
    config = yaml.safe_load((project / "task.yaml").read_text())
    config["description"] = "Call one smart-home tool as JSON."
    # the short system text names the tools; at 1e-3 with the description alone the student
    # still answered "turn on" for the seed "turn on the kitchen lights"
    config["training"] = {
        "epochs": 3,
        "learning_rate": 2e-3,
        "batch_size": 8,
        "max_length": 192,
        "lora_rank": 8,
        "lora_alpha": 16,
        "system_prompt": "short",
    }
    config["serve"] = LIMITS | {"max_tokens": 48}
    (project / "task.yaml").write_text(yaml.safe_dump(config))
    germinate("validate", project, "--candidates", project / "test.jsonl", "--apply", check=0)
    result = germinate("train", project)
    assert result.returncode == 0, result.stderr[-3000:]
    with serving(project) as port:
        yield port, config


def test_the_official_client_gets_tool_calls(smart_home):
    port, config = smart_home
    client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
    names = {t["function"]["name"] for t in config["tools"]}
    messages = [{"role": "user", "content": "turn on the kitchen lights"}]

    whole = client.chat.completions.create(model="smart-home", messages=messages, tools=config["tools"])
    choice = whole.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None, choice
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name in names
    arguments = json.loads(call.function.arguments)
    assert isinstance(arguments, dict)

    chunks = list(
        client.chat.completions.create(model="smart-home", messages=messages, tools=config["tools"], stream=True)
    )
    deltas = [d for c in chunks if c.choices for d in (c.choices[0].delta.tool_calls or [])]
    assert [(d.index, d.function.name, json.loads(d.function.arguments)) for d in deltas] == [
        (0, call.function.name, arguments)
    ]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"

    # no tools in the request: the project's catalog applies; tool_choice "none": plain text
    implied = client.chat.completions.create(model="smart-home", messages=messages)
    assert implied.choices[0].message.tool_calls[0].function.name == call.function.name
    plain = client.chat.completions.create(
        model="smart-home", messages=messages, tool_choice="none", tools=config["tools"]
    )
    assert plain.choices[0].message.tool_calls is None
    assert json.loads(plain.choices[0].message.content)["name"] == call.function.name


def test_predict_takes_records_without_outputs(base_project, tmp_path):
    unlabelled = tmp_path / "unlabelled.jsonl"
    unlabelled.write_text('{"input": "Broke in a day."}\n{"input": "Lovely and warm.", "output": "positive"}\n')
    out = tmp_path / "predictions.jsonl"
    result = germinate(
        "predict", base_project, "--model", "base", "--input", unlabelled, "--output", out, "--max-new-tokens", "4"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in rows] == [1, 2] and all(isinstance(r["prediction"], str) for r in rows)
    assert "output" not in rows[0]["record"] and rows[1]["record"]["output"] == "positive"
