"""What ``germinate check`` verifies beyond the JSON Schema of task.yaml: every value a later stage
will read must be usable then, so a project that passes check does not fail an hour into a paid run.

* no secret anywhere in task.yaml (a key under any ``api_key``-like name, at any depth, or any
  value shaped like a key);
* the judge's backend settings (``evaluation.judge``) against that backend's schema;
* ``generation.properties`` names a property germinate or the task type provides;
* each validator's settings, through its ``check_settings`` (ordered bounds, known field names).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from germinate.plugins import Plugins
from germinate.project.errors import schema_problems
from germinate.project.teacher_section import judge_override, teacher_settings
from germinate.secrets import looks_like_secret, secret_key_name, url_with_password
from germinate.tasks.property import GENERATED_PROPERTIES

Found = Iterator[tuple[tuple[Any, ...], str]]

KEY_IN_YAML = (
    "API keys do not belong in task.yaml: export the key in an environment variable and name that "
    "variable in teacher.api_key_env"
)


def secret_problems(config: dict[str, Any]) -> Found:
    """Every place task.yaml holds a secret (iterative walk; the loader bounded the depth)."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), config)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for key, sub in reversed(list(value.items())):
                scalar = isinstance(sub, (str, int, float)) and not isinstance(sub, bool) and sub != ""
                if scalar and secret_key_name(str(key)):
                    yield path + (key,), KEY_IN_YAML
                    continue
                stack.append((path + (key,), sub))
        elif isinstance(value, list):
            stack.extend((path + (i,), sub) for i, sub in reversed(list(enumerate(value))))
        elif isinstance(value, str) and url_with_password(value):
            yield path, "this URL holds a password (user:password@host); passwords do not belong in task.yaml"
        elif isinstance(value, str) and looks_like_secret(value):
            if path and path[-1] == "api_key_env":
                yield (
                    path,
                    (
                        "this looks like an API key itself: export the key in an environment variable and write "
                        "that variable's name here"
                    ),
                )
            else:
                yield path, f"this looks like an API key; {KEY_IN_YAML}"


def judge_problems(config: dict[str, Any], plugins: Plugins, root: Path | None = None) -> Found:
    """``evaluation.judge``'s backend settings, as the judge's engine will receive them."""
    override = judge_override(config)
    if override is not None:
        yield from override_problems(config, plugins, override, ("evaluation", "judge"), root)


def override_problems(
    config: dict[str, Any], plugins: Plugins, override: dict[str, Any], where: tuple[str, ...], root: Path | None
) -> Found:
    """Another model's backend settings (``override`` over the teacher section, or instead of it
    when it names a backend), as its engine will receive them; reported under ``where``."""
    replace = "backend" in override
    settings = teacher_settings(config, override, replace)
    name = settings.get("backend")
    backend = plugins.teachers.get(name) if isinstance(name, str) else None
    if backend is None:
        if replace:  # otherwise the teacher's own backend is reported under teacher.backend
            known = ", ".join(sorted(plugins.teachers)) or "none"
            yield where + ("backend",), f"unknown teacher backend {name!r} (installed: {known})"
        return
    found = list(schema_problems(backend.config_schema, settings))
    if not found:
        found = [(tuple(path), message) for path, message in backend.check_settings(settings, root)]
    for path, message in found:
        # settings inherited from the teacher are reported under teacher: only this model's own here
        if replace or (path and path[0] in override) or not path:
            yield where + path, message


def property_problems(config: dict[str, Any], task_type: Any) -> Found:
    generation = config.get("generation")
    chosen = generation.get("properties") if isinstance(generation, dict) else None
    if not isinstance(chosen, list):
        return
    own = [p.name for p in task_type.own_properties(config)]
    known = [*GENERATED_PROPERTIES, *own]
    for index, name in enumerate(chosen):
        if isinstance(name, str) and name not in known:
            yield ("generation", "properties", index), f"unknown property {name!r} (available: {', '.join(known)})"


def validator_problems(
    config: dict[str, Any], plugins: Plugins, task_type: Any, seeds: list[dict[str, Any]], root: Path | None = None
) -> Found:
    """Each configured validator's ``check_settings`` over its settings (defaults filled in), and
    the model it asks, if not the teacher (its ``engine_override``)."""
    validation = config.get("validation")
    if not isinstance(validation, dict):
        return
    for name, validator in plugins.validators.items():
        settings = validation.get(name, {})
        if settings is False:
            continue
        settings = settings if isinstance(settings, dict) else {}
        defaults = {
            key: sub["default"]
            for key, sub in validator.config_schema.get("properties", {}).items()
            if "default" in sub
        }
        filled = {**defaults, **settings}
        check = getattr(validator, "check_settings", None)
        found = [
            (("validation", name) + tuple(path), message)
            for path, message in (check(filled, seeds, task_type) if check else ())
        ]
        yield from found
        engine = getattr(validator, "engine_override", None)
        chosen = engine(filled) if engine is not None and not found else None
        if chosen is not None:
            override, where = chosen
            yield from override_problems(config, plugins, override, tuple(where), root)
