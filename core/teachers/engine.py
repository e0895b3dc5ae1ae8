"""The one request engine every teacher backend goes through.

* bounded concurrency: ``concurrency`` workers per server pull from one queue, so 10,000 requests
  never mean 10,000 tasks; on HTTP 429 that server's allowed concurrency halves and it takes no
  request until its ``Retry-After`` (or a back-off) has passed, then it grows back one step at a time;
* several servers (:mod:`germinate.teachers.pool`): each request goes to the server with the fewest
  requests outstanding, a retry to another one when there is a choice; a server that keeps failing
  is benched for a while, then tried again; the cache key never depends on which server answered;
* retries with exponential back-off and full jitter on 5xx, timeouts, dropped connections and
  malformed bodies; a per-attempt timeout; optional requests-per-minute and tokens-per-minute limits;
* the cache: a finished call is never paid for twice, a failure is never cached;
* cost: tokens and money per stage and model, and ``max_cost`` which stops starting new calls
  once reached (calls already in flight finish and are kept).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from germinate.teachers.base import ChatRequest, Completion, PermanentError, RateLimited, TeacherClient, TransientError
from germinate.teachers.cache import Cache
from germinate.teachers.cost import CostMeter
from germinate.teachers.pool import Server, ServerPool, ServerStats

DEFAULT_MAX_TOKENS = 512


@attrs.define
class EngineSettings:
    #: requests in flight at once, per server
    concurrency: int = 8
    timeout: float = 120.0
    max_retries: int = 6
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    rpm: float | None = None
    tpm: float | None = None
    max_cost: float | None = None
    use_cache: bool = True
    seed: int | None = None  # for the back-off jitter, so tests can be exact
    #: failures in a row that bench a server (when another one is in play), and for how long
    bench_after: int = 3
    bench_seconds: float = 30.0


@attrs.define
class Result:
    request: ChatRequest
    completion: Completion | None = None
    cached: bool = False
    #: kind of the final error when the request failed (rate_limited, server_error, timeout,
    #: connection, bad_response, client_error, budget, error)
    error: str | None = None
    message: str = ""
    attempts: int = 0
    #: the server that answered (or was tried last); None for a cache hit
    server: str | None = None

    @property
    def ok(self) -> bool:
        return self.completion is not None

    @property
    def text(self) -> str | None:
        """The completion's text, or None when the request failed."""
        return self.completion.text if self.completion is not None else None


@attrs.define
class EngineStats:
    total: int = 0
    done: int = 0
    cached: int = 0
    failed: int = 0
    skipped: int = 0
    retries: int = 0
    #: every failed attempt, by kind (a request retried twice after 500s counts 2 server_error)
    faults: Counter = attrs.field(factory=Counter)
    #: per server, by name: attempts, answers, faults, benches
    servers: dict[str, ServerStats] = attrs.field(factory=dict)

    def as_dict(self) -> dict[str, Any]:
        plain = attrs.asdict(self, filter=lambda a, v: a.name not in ("faults", "servers"))
        return {**plain, "faults": dict(self.faults), "servers": self.servers_dict()}

    def servers_dict(self) -> dict[str, dict[str, Any]]:
        return {name: stats.as_dict() for name, stats in self.servers.items()}


def estimate_tokens(request: ChatRequest) -> tuple[int, int]:
    """A rough (input, output) token estimate for limits and dry runs: ~4 characters a token."""
    chars = sum(len(m.get("content") or "") for m in request.messages)
    return chars // 4 + 4 * len(request.messages), int(request.params.get("max_tokens", DEFAULT_MAX_TOKENS))


class _Rate:
    """A per-minute budget spread evenly: each unit takes 60/rate seconds of the timeline."""

    def __init__(self, per_minute: float) -> None:
        self.interval = 60.0 / per_minute
        self.next_free = 0.0
        self.lock = asyncio.Lock()

    async def take(self, units: float = 1.0) -> None:
        # Waiting inside the lock (asyncio's is FIFO) keeps at least one interval between sends
        # even when a loaded machine wakes sleepers late; reserving future slots and sleeping
        # outside the lock let late sleepers go out together.
        async with self.lock:
            wait = self.next_free - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_free = time.monotonic() + units * self.interval


class Engine:
    def __init__(
        self,
        client: TeacherClient | Sequence[TeacherClient],
        cache: Cache | None = None,
        meter: CostMeter | None = None,
        settings: EngineSettings | None = None,
        on_progress: Callable[[EngineStats, CostMeter], None] | None = None,
    ) -> None:
        """``client``: one backend client, or one per server of the same model."""
        self.clients = [client] if isinstance(client, TeacherClient) else list(client)
        if not self.clients:
            raise ValueError("an engine needs at least one client")
        if any(c.identity != self.clients[0].identity for c in self.clients):
            raise ValueError("every server of one engine must have the same identity (it keys the cache)")
        self.cache = cache
        self.meter = meter or CostMeter()
        self.settings = settings or EngineSettings()
        self.on_progress = on_progress
        self.stats = EngineStats()
        self.identity = dict(self.clients[0].identity)
        self.pool: ServerPool | None = None  # made by the first run(), from the settings then
        self.random = random.Random(self.settings.seed)
        self.budget_reached = False
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def client(self) -> TeacherClient:
        """The first server's client: the model's name and identity are the same for all."""
        return self.clients[0]

    def _report(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.stats, self.meter)

    def _backoff(self, attempt: int) -> float:
        cap = min(self.settings.backoff_max, self.settings.backoff_base * 2**attempt)
        return self.random.uniform(0, cap)

    def _over_budget(self) -> bool:
        # the meter knows whether a budget shared with other engines is spent
        if self.meter.over_budget(self.settings.max_cost):
            self.budget_reached = True
        return self.budget_reached

    async def _one(self, request: ChatRequest, pool: ServerPool, rpm: _Rate | None, tpm: _Rate | None) -> Result:
        model = self.client.model
        key = request.key(self.identity)
        if self.cache is not None and self.settings.use_cache:
            hit = self.cache.get(key)
            if hit is not None:
                self.meter.add(request.stage, model, hit.input_tokens, hit.output_tokens, cached=True)
                self.stats.cached += 1
                return Result(request, hit, cached=True)
        result = Result(request)
        server: Server | None = None
        for attempt in range(self.settings.max_retries + 1):
            if self._over_budget():
                result.error, result.message = "budget", "not sent: max_cost reached"
                self.stats.skipped += 1
                return result
            if rpm is not None:
                await rpm.take()
            if tpm is not None:
                await tpm.take(sum(estimate_tokens(request)))
            server = await pool.acquire(avoid=server)
            result.attempts, result.server = attempt + 1, server.name
            retry_after = None
            try:
                completion = await asyncio.wait_for(server.client.complete(request), self.settings.timeout)
            except RateLimited as exc:
                await pool.release(server, "throttled", exc.kind, exc.retry_after)
                result.error, result.message, retry_after = exc.kind, str(exc), exc.retry_after
            except (TransientError, asyncio.TimeoutError, TimeoutError) as exc:
                result.error = getattr(exc, "kind", "timeout")
                result.message = str(exc) or f"no answer within {self.settings.timeout:g} s"
                await pool.release(server, "failed", result.error)
            except PermanentError as exc:
                await pool.release(server, "done", exc.kind)
                result.error, result.message = exc.kind, str(exc)
                self.stats.faults[exc.kind] += 1
                break
            except asyncio.CancelledError:
                await pool.release(server, "done")
                raise
            except Exception as exc:  # a backend bug must not kill the run; retrying will not fix it
                await pool.release(server, "done", "error")
                result.error, result.message = "error", f"{type(exc).__name__}: {exc}"
                self.stats.faults["error"] += 1
                break
            else:
                await pool.release(server, "ok")
                if self.cache is not None:
                    self.cache.put(key, model, request, completion)
                self.meter.add(
                    request.stage,
                    model,
                    completion.input_tokens,
                    completion.output_tokens,
                    reused=completion.reused_tokens,
                )
                self.stats.done += 1
                return Result(request, completion, attempts=attempt + 1, server=server.name)
            self.stats.faults[result.error] += 1
            if attempt < self.settings.max_retries:
                self.stats.retries += 1
                # with one server, a 429's Retry-After is this request's pause too; with several, that
                # server is paused and another one can take the retry after the usual back-off
                wait = retry_after if retry_after is not None and len(pool.servers) == 1 else None
                await asyncio.sleep(wait if wait is not None else self._backoff(attempt))
        self.stats.failed += 1
        self.meter.fail(request.stage, model)
        return result

    async def run(
        self, requests: Iterable[ChatRequest], on_result: Callable[[int, Result], None] | None = None
    ) -> list[Result]:
        """Answer every request (or record why not); results come back in request order.
        ``on_result(index, result)`` is called as each one finishes, for streaming writes."""
        requests = list(requests)
        self.stats.total += len(requests)
        results: list[Result | None] = [None] * len(requests)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(len(requests)):
            queue.put_nowait(index)
        if self.pool is None:  # kept from batch to batch: a benched server stays benched
            settings = self.settings
            self.pool = ServerPool(self.clients, settings.concurrency, settings.bench_after, settings.bench_seconds)
            self.stats.servers = {server.name: server.stats for server in self.pool.servers}
        pool = self.pool
        rpm = _Rate(self.settings.rpm) if self.settings.rpm else None
        tpm = _Rate(self.settings.tpm) if self.settings.tpm else None

        async def worker() -> None:
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                result = await self._one(requests[index], pool, rpm, tpm)
                results[index] = result
                if on_result is not None:
                    on_result(index, result)
                self._report()

        workers = min(pool.capacity, max(1, len(requests)))
        await asyncio.gather(*(worker() for _ in range(workers)))
        return [r for r in results if r is not None]

    def estimate(self, requests: Iterable[ChatRequest]) -> dict[str, Any]:
        """What running these would cost, without sending anything (cache hits are free)."""
        calls = hits = input_tokens = output_tokens = 0
        for request in requests:
            if self.cache is not None and self.settings.use_cache and self.cache.get(request.key(self.identity)):
                hits += 1
                continue
            calls += 1
            i, o = estimate_tokens(request)
            input_tokens += i
            output_tokens += o
        cost = self.meter.cost_of(self.client.model, input_tokens, output_tokens)
        return {
            "model": self.client.model,
            "calls": calls,
            "cached": hits,
            "input_tokens": input_tokens,
            "max_output_tokens": output_tokens,
            "max_cost_usd": None if cost is None else round(cost, 4),
        }

    def run_blocking(
        self, requests: Iterable[ChatRequest], on_result: Callable[[int, Result], None] | None = None
    ) -> list[Result]:
        """``run`` from synchronous code, batch after batch on one event loop (SDK connection
        pools belong to the loop they were opened on)."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(self.run(requests, on_result))

    def close(self) -> None:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        try:
            for client in self.clients:
                self._loop.run_until_complete(client.aclose())
        finally:
            self._loop.close()
            self._loop = None


def run_sync(
    engine: Engine, requests: Iterable[ChatRequest], on_result: Callable[[int, Result], None] | None = None
) -> list[Result]:
    """Run an engine once from synchronous code and close its client afterwards."""
    try:
        return engine.run_blocking(requests, on_result)
    finally:
        engine.close()
