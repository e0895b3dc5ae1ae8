"""A project's prompt templates: ``generation.prompts`` and ``evaluation.judge.prompt`` in
task.yaml, and ``prompts/<name>.txt`` files, each routed to the stage that owns it and checked
there and then (placeholders, braces, bare names only; see :mod:`germinate.tasks.templates`).

``prompts/judge.txt`` belongs to evaluation; every other file must name one of the task type's
generation prompts. A prompt given in task.yaml wins over a file of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from germinate.files import inside, read_text
from germinate.problems import GerminateError, Problem, located
from germinate.settings import InputLimits
from germinate.tasks import templates

PROMPTS_DIR = "prompts"
#: prompt files that belong to evaluation, with their placeholders and the ones they must use
EVALUATION_PROMPTS = {"judge": (templates.JUDGE_PLACEHOLDERS, templates.JUDGE_REQUIRED)}


def generation_templates(task_type: Any, config: dict[str, Any]) -> dict[str, list[str]]:
    """The generation prompts a project may replace under its ``generation.prompt_style`` (listed,
    or single: germinate 0.1's), each with the placeholders it may use: its default template's,
    the description and the property legend."""
    generation = config.get("generation")
    style = generation.get("prompt_style") if isinstance(generation, dict) else None
    chosen = task_type.single_templates if style == "single" and task_type.single_templates else task_type.templates
    return {name: sorted({"description", "properties", *templates.placeholders(text)}) for name, text in chosen.items()}


def read_prompt_files(root: Path, limits: InputLimits, problems: list[Problem]) -> dict[str, str]:
    """``prompts/*.txt`` by name (the file's stem), each a regular UTF-8 file within
    ``limits.prompt_kb`` inside the project; problems are appended."""
    folder = root / PROMPTS_DIR
    if not folder.exists() and not folder.is_symlink():
        return {}
    if not inside(folder, root) or not folder.is_dir():
        problems.append(Problem(PROMPTS_DIR, None, None, "expected a folder of prompt templates inside the project"))
        return {}
    out = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name.endswith("~"):  # an editor's swap or backup file
            continue
        if not path.name.endswith(".txt"):
            # prompts/generate or prompts/generate.md would be silently left out: the default prompt
            # would run while its author believes theirs does
            problems.append(
                Problem(
                    f"{PROMPTS_DIR}/{path.name}",
                    None,
                    None,
                    "not a prompt file: name it NAME.txt, such as generate.txt",
                )
            )
            continue
        try:
            out[path.stem] = read_text(
                path,
                f"{PROMPTS_DIR}/{path.name}",
                limit=limits.bytes("prompt_kb"),
                setting="limits.prompt_kb",
                root=root,
            )
        except GerminateError as exc:
            problems.extend(located(exc.problems))
    return out


def _checked(text: Any, available: Any, required: Any, report: Callable[[int | None, str], None]) -> None:
    if not isinstance(text, str) or not text.strip():
        report(None, "must not be empty")
        return
    try:
        templates.check(text, available, required)
    except templates.TemplateError as exc:
        report(exc.line, exc.message)


def _section(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def template_problems(
    config: dict[str, Any], line_of: Callable[[tuple], int | None], task_type: Any, files: dict[str, str]
) -> list[Problem]:
    """Every problem of every template the project supplies, each named where it was written."""
    problems: list[Problem] = []
    known = generation_templates(task_type, config)
    names = sorted(known)

    def in_yaml(path: tuple) -> Callable[[int | None, str], None]:
        # a template's own line is not the file's: task.yaml problems name the key's line
        field = ".".join(map(str, path))
        return lambda _line, message: problems.append(Problem("task.yaml", line_of(path), field, message))

    def in_file(name: str) -> Callable[[int | None, str], None]:
        return lambda line, message: problems.append(Problem(f"{PROMPTS_DIR}/{name}.txt", line, None, message))

    given = _section(_section(config, "generation"), "prompts")
    for name, text in given.items():
        path = ("generation", "prompts", name)
        if name in known:
            _checked(text, known[name], (), in_yaml(path))
        elif name in EVALUATION_PROMPTS:
            in_yaml(path)(None, f"the {name} prompt belongs to evaluation: move it to evaluation.judge.prompt")
        else:
            in_yaml(path)(None, f"no such prompt for {task_type.name} (prompts: {', '.join(names)})")

    judge = _section(_section(config, "evaluation"), "judge")
    if "prompt" in judge:
        _checked(judge["prompt"], *EVALUATION_PROMPTS["judge"], in_yaml(("evaluation", "judge", "prompt")))

    for name, text in files.items():
        if name in EVALUATION_PROMPTS:
            _checked(text, *EVALUATION_PROMPTS[name], in_file(name))
        elif name in known:
            _checked(text, known[name], (), in_file(name))
        else:
            in_file(name)(
                None,
                f"no such prompt for {task_type.name} (generation: {', '.join(names)}; "
                f"evaluation: {', '.join(EVALUATION_PROMPTS)})",
            )
    return problems
