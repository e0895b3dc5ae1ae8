"""Teacher engine throughput and overhead.

    python bench/teacher_engine.py [--requests 2000] [--concurrency 64] [--delay 0.2] [--servers 1]

A loopback OpenAI-compatible server (a separate process; with --servers N, N of them, each taking
concurrency / N requests at once, given as a base_url list) answers every request after a fixed
delay, so the best possible rate is concurrency / delay. Two runs, both through the engine with
its SQLite cache on:

* sdk:  the real openai backend (SDK + HTTP) - achieved requests/s as a fraction of the bound;
* null: a client that only sleeps for the delay - the CPU the engine itself spends per request.

Prints the fraction of the bound, and the engine's own CPU per request as a share of the whole
client's CPU per request in the SDK run (target: >= 0.9 of the bound, <= 5% in our code).
"""

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from germinate.project.load import load_project
from germinate.teachers.base import ChatRequest, Completion, TeacherClient
from germinate.teachers.engine import Engine, EngineSettings
from germinate.teachers.setup import make_engine
from germinate.testing import SAMPLE_CONFIG, write_project


class SleepClient(TeacherClient):
    identity = {"backend": "null", "model": "null"}

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def complete(self, request: ChatRequest) -> Completion:
        await asyncio.sleep(self.delay)
        return Completion("fine", 10, 1, "stop")


def measure(engine: Engine, requests: list[ChatRequest]) -> tuple[float, float]:
    async def main():
        try:
            return await engine.run(requests)
        finally:
            await engine.client.aclose()

    wall, cpu = time.perf_counter(), time.process_time()
    results = asyncio.run(main())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:5]
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "teacher_engine.json")
    args = parser.parse_args()
    requests = [
        ChatRequest([{"role": "user", "content": f"request {i}"}], {"max_tokens": 8}, sample=i)
        for i in range(args.requests)
    ]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "germinate.testing.loopback", "--delay", str(args.delay)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(args.servers)
    ]
    urls = [f"http://127.0.0.1:{int(server.stdout.readline())}/v1" for server in servers]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            project = load_project(
                write_project(
                    Path(tmp) / "sdk",
                    config={
                        **SAMPLE_CONFIG,
                        "teacher": {
                            "backend": "openai",
                            "model": "bench",
                            "base_url": urls[0] if len(urls) == 1 else urls,
                            "concurrency": args.concurrency // len(urls),
                        },
                    },
                )
            )
            sdk_wall, sdk_cpu = measure(make_engine(project), requests)
            null_project = load_project(write_project(Path(tmp) / "null"))
            from germinate.teachers.cache import Cache

            null = Engine(
                SleepClient(args.delay) if len(urls) == 1 else [SleepClient(args.delay) for _ in urls],
                Cache.for_project(null_project.root),
                settings=EngineSettings(concurrency=args.concurrency // len(urls)),
            )
            null_wall, null_cpu = measure(null, requests)
    finally:
        for server in servers:
            server.terminate()
    bound = args.concurrency // len(urls) * len(urls) / args.delay
    result = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "servers": args.servers,
        "delay_s": args.delay,
        "bound_rps": bound,
        "sdk_rps": round(args.requests / sdk_wall, 1),
        "fraction_of_bound": round(args.requests / sdk_wall / bound, 3),
        "client_cpu_ms_per_request": round(1000 * sdk_cpu / args.requests, 3),
        "engine_cpu_ms_per_request": round(1000 * null_cpu / args.requests, 3),
        "engine_share_of_client_cpu": round(null_cpu / sdk_cpu, 3),
        "null_fraction_of_bound": round(args.requests / null_wall / bound, 3),
    }
    print(
        f"teacher engine: {args.requests} requests, concurrency {args.concurrency} over {args.servers} server(s), "
        f"server delay {args.delay * 1000:.0f} ms (bound {bound:.0f} req/s)"
    )
    print(
        f"  openai SDK over HTTP: {result['sdk_rps']} req/s = {result['fraction_of_bound']:.2f} of the bound; "
        f"client CPU {result['client_cpu_ms_per_request']} ms/request"
    )
    print(
        f"  engine alone (sleeping client): {result['null_fraction_of_bound']:.2f} of the bound; "
        f"{result['engine_cpu_ms_per_request']} ms CPU/request = {result['engine_share_of_client_cpu']:.1%} "
        f"of the client's CPU per request"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
