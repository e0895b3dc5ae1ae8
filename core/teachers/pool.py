"""The teacher servers one engine spreads its requests over (``teacher.base_url`` as a list).

Each server keeps its own adaptive concurrency: on HTTP 429 its limit halves and it takes no new
request until its ``Retry-After`` has passed, then the limit grows back one step at a time. A
request goes to the ready server with the fewest requests outstanding. A server that fails
``bench_after`` times in a row (5xx, timeouts, dropped connections, malformed bodies) is benched
for ``bench_seconds`` and then tried again with one request; its first success gives it back its
old limit, a failure benches it again. The last server not benched is never benched: with one
server the engine behaves exactly as if there were no pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import attrs

from germinate.teachers.base import TeacherClient


@attrs.define
class ServerStats:
    """What one server did: attempts sent to it, answers it gave, its faults by kind, benches."""

    attempts: int = 0
    answered: int = 0
    faults: Counter = attrs.field(factory=Counter)
    benched: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "answered": self.answered,
            "faults": dict(self.faults),
            "benched": self.benched,
        }


class Server:
    """One server's state; only :class:`ServerPool` changes it."""

    def __init__(self, client: TeacherClient, name: str, maximum: int) -> None:
        self.client = client
        self.name = name
        self.maximum = self.limit = maximum
        self.inflight = 0
        self.streak = 0  # successes since the limit last changed
        self.failures = 0  # failures in a row
        self.cooldown_until = 0.0
        self.benched_until = 0.0
        self.limit_before_bench: int | None = None
        self.stats = ServerStats()

    def ready(self, now: float) -> bool:
        return self.inflight < self.limit and self.cooldown_until <= now and self.benched_until <= now


def server_names(clients: Sequence[TeacherClient]) -> list[str]:
    """A distinct display name per client: its ``server``, numbered when two are the same."""
    names: list[str] = []
    for index, client in enumerate(clients):
        name = client.server or f"server {index + 1}"
        names.append(name if name not in names else f"{name} #{index + 1}")
    return names


class ServerPool:
    def __init__(
        self, clients: Sequence[TeacherClient], concurrency: int, bench_after: int = 3, bench_seconds: float = 30.0
    ) -> None:
        self.servers = [Server(c, n, concurrency) for c, n in zip(clients, server_names(clients))]
        self.bench_after = bench_after
        self.bench_seconds = bench_seconds
        self._condition: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def condition(self) -> asyncio.Condition:
        """The pool outlives one event loop (servers stay benched from batch to batch); its
        condition belongs to the running loop."""
        loop = asyncio.get_running_loop()
        if self._condition is None or self._loop is not loop:
            self._condition, self._loop = asyncio.Condition(), loop
        return self._condition

    @property
    def capacity(self) -> int:
        return sum(s.maximum for s in self.servers)

    async def acquire(self, avoid: Server | None = None) -> Server:
        """The ready server with the fewest requests outstanding (another than ``avoid``, the one
        that just failed this request, when there is a choice); waits while none is ready."""
        condition = self.condition
        async with condition:
            while True:
                now = time.monotonic()
                ready = [s for s in self.servers if s.ready(now)]
                if avoid is not None and len(ready) > 1:
                    ready = [s for s in ready if s is not avoid]
                if ready:
                    server = min(ready, key=lambda s: (s.inflight, s.stats.attempts))
                    server.inflight += 1
                    server.stats.attempts += 1
                    return server
                waits = [t - now for s in self.servers for t in (s.cooldown_until, s.benched_until) if t > now]
                # until a request finishes, or the first pause or bench ends
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(condition.wait(), min(waits) if waits else None)

    async def release(
        self, server: Server, outcome: str, fault: str | None = None, retry_after: float | None = None
    ) -> None:
        """``outcome``: "ok"; "throttled" (HTTP 429); "failed" (the server's fault: 5xx, timeout,
        connection, bad body); "done" (anything else: the request's fault, or cancelled).
        ``fault`` is the kind counted against the server, if any."""
        condition = self.condition
        async with condition:
            server.inflight -= 1
            if fault is not None:
                server.stats.faults[fault] += 1
            if outcome == "ok":
                server.stats.answered += 1
                server.failures = 0
                if server.limit_before_bench is not None:  # back from the bench and answering
                    server.limit, server.limit_before_bench, server.streak = server.limit_before_bench, None, 0
                else:
                    server.streak += 1
                    if server.streak >= server.limit and server.limit < server.maximum:
                        server.limit += 1
                        server.streak = 0
            elif outcome == "throttled":
                server.limit = max(1, server.limit // 2)
                server.streak = 0
                if retry_after:
                    server.cooldown_until = max(server.cooldown_until, time.monotonic() + retry_after)
            elif outcome == "failed":
                server.failures += 1
                benched = server.benched_until > time.monotonic()  # requests it had when benched
                if not benched and server.failures >= self.bench_after and self._others_in_play(server):
                    self._bench(server)
            condition.notify_all()

    def _others_in_play(self, server: Server) -> bool:
        now = time.monotonic()
        return any(s is not server and s.benched_until <= now for s in self.servers)

    def _bench(self, server: Server) -> None:
        server.benched_until = time.monotonic() + self.bench_seconds
        server.stats.benched += 1
        if server.limit_before_bench is None:
            server.limit_before_bench = server.limit
        server.limit = 1  # one probe when the bench ends
        server.failures = self.bench_after - 1  # and a failed probe benches it again at once
