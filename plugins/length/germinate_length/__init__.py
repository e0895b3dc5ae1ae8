"""Length validator: a candidate's text must lie within the seeds' [p_low, p_high] percentile
range of lengths, measured per field (a QA record's question and answer separately), widened by
``slack``: [p_low / slack, p_high * slack]. The percentiles of 10-50 seeds are rough (the 95th of
20 seeds is about the second longest), so without slack a tenth or more of real task inputs would
fail; bench/length_band.py measures that share on the shared datasets' test splits."""

from __future__ import annotations

import re

from germinate import Check, Validator, Verdict, hookimpl

_WORDS = re.compile(r"\S+")


def measure(text: str, unit: str) -> int:
    return len(text) if unit == "chars" else len(_WORDS.findall(text))


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class LengthCheck(Check):
    def __init__(self, bounds: dict[str, tuple[float, float]], unit: str, task_type, settings) -> None:
        self.bounds, self.unit, self.task_type, self.settings = bounds, unit, task_type, settings

    def check(self, record: dict) -> Verdict:
        for field, text in self.task_type.text_fields(record).items():
            if field not in self.bounds:
                continue
            low, high = self.bounds[field]
            size = measure(text, self.unit)
            if size < low:
                return Verdict.reject(
                    f"{field}: {size} {self.unit}, below the seeds' "
                    f"{self.settings['lower_percentile']:g}th percentile{self._slack('/')} ({low:g})",
                    size,
                    field=field,
                    bounds=[low, high],
                )
            if size > high:
                return Verdict.reject(
                    f"{field}: {size} {self.unit}, above the seeds' "
                    f"{self.settings['upper_percentile']:g}th percentile{self._slack('×')} ({high:g})",
                    size,
                    field=field,
                    bounds=[low, high],
                )
        return Verdict.accept()

    def _slack(self, op: str) -> str:
        return f" {op} {self.settings['slack']:g}" if self.settings["slack"] != 1 else ""


#: chosen by bench/length_band.py: the widening that keeps real inputs of every shared dataset
DEFAULT_SLACK = 1.5


class Length(Validator):
    name = "length"
    order = 20
    summary = (
        "Reject texts shorter or longer than the seeds' 5th-95th percentile of lengths, widened by slack, per field."
    )
    config_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "lower_percentile": {"type": "number", "minimum": 0, "maximum": 100, "default": 5},
            "upper_percentile": {"type": "number", "minimum": 0, "maximum": 100, "default": 95},
            "slack": {
                "type": "number",
                "minimum": 1,
                "maximum": 100,
                "default": DEFAULT_SLACK,
                "description": "widen the band to [low / slack, high * slack]; 1 keeps the bare percentiles",
            },
            "unit": {"enum": ["words", "chars"], "default": "words"},
            "fields": {
                "type": "array",
                "items": {"type": "string"},
                "description": "fields to measure (default: every text field of the task)",
            },
        },
    }

    def check_settings(self, settings, seeds, task_type):
        if settings["lower_percentile"] > settings["upper_percentile"]:
            yield (
                ("lower_percentile",),
                f"{settings['lower_percentile']:g} is above upper_percentile ({settings['upper_percentile']:g})",
            )
        if settings.get("fields") is not None:
            known = sorted({field for seed in seeds for field in task_type.text_fields(seed)})
            for index, field in enumerate(settings["fields"]):
                if field not in known:
                    yield ("fields", index), f"{field!r} is not a text field of the seeds ({', '.join(known)})"

    def prepare(self, seeds, settings, task):
        settings = {"lower_percentile": 5, "upper_percentile": 95, "slack": DEFAULT_SLACK, "unit": "words", **settings}
        lengths: dict[str, list[int]] = {}
        for seed in seeds:
            for field, text in task.task_type.text_fields(seed).items():
                if settings.get("fields") is None or field in settings["fields"]:
                    lengths.setdefault(field, []).append(measure(text, settings["unit"]))
        slack = settings["slack"]
        bounds = {
            field: (
                percentile(values, settings["lower_percentile"]) / slack,
                percentile(values, settings["upper_percentile"]) * slack,
            )
            for field, values in lengths.items()
        }
        return LengthCheck(bounds, settings["unit"], task.task_type, settings)


@hookimpl
def register_validators(register):
    register(Length())
