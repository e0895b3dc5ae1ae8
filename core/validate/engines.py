"""What validators that ask a model (the agreement validator) spent.

During generation the validators share the generation loop's engine (a
:class:`germinate.teachers.engines.Engines` built around it): their calls are cached, counted,
priced and bounded by ``--max-cost`` with everything else. ``germinate validate`` has no engine of
its own, so one is made from the project's teacher settings with the cache on: a replay answers
from the cache, and a request that is not there is a real call, which the summary says.
"""

from __future__ import annotations

from typing import Any

import attrs

from germinate.teachers.engines import Engines

#: the cost-accounting stage of validators' teacher calls
STAGE = "validate"


@attrs.define
class ValidatorCalls:
    """What validators asked the teacher in one cascade run: answers sent (real calls), found in
    the cache, failed, their tokens and cost."""

    sent: int = 0
    cached: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float | None = 0.0

    @classmethod
    def of(cls, engines: Engines) -> ValidatorCalls:
        usage = engines.usage(STAGE)
        return cls(
            sent=usage.calls,
            cached=usage.cached,
            failed=usage.failed,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cost=usage.cost,
        )

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)
