"""``germinate export``: the trained student in the forms people run models in.

* ``gguf``: the merged student converted by llama.cpp's own converter (taken on first use from
  the llama-cpp-python source distribution germinate pins, see germinate.student.converter) to f16,
  then quantised by llama.cpp itself (``llama_model_quantize`` from the bindings germinate already
  installs). The GGUF carries the student's chat template, so llama.cpp formats prompts exactly
  as the student was trained.
* ``ollama``: that GGUF, a Modelfile (FROM, TEMPLATE translated from the chat template, SYSTEM:
  the system prompt the student was trained with, PARAMETER stop tokens) and a README with the
  two commands that create and run it.
* ``merged`` / ``adapter``: the Hugging Face folder and the peft adapter, each with a model card
  (task, teacher, data sizes, validation counts, evaluation table, licence of the base model).

torch, transformers and llama_cpp are imported only inside the functions that need them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs

from germinate.embedded_models import EMBEDDED
from germinate.problems import GerminateError
from germinate.project.load import Project
from germinate.run_folder import ExportFolder, ModelFolder, RunFolder, model_card, modelfile, report_path
from germinate.settings import StudentSettings
from germinate.student.converter import converter_script

FORMATS = ("gguf", "ollama", "merged", "adapter")
#: llama.cpp's ``llama_ftype`` for each quantisation germinate offers
QUANTS = {"f16": 1, "q8_0": 7, "q4_k_m": 15}


@attrs.frozen
class ExportResult:
    """What ``germinate export`` wrote for one format."""

    format: str
    path: Path
    files: tuple[Path, ...]
    quant: str | None = None
    system_prompt: str | None = None


def export_name(project: Project) -> str:
    """The project's name as exported files and the Ollama model are called."""
    return re.sub(r"[^a-z0-9._-]+", "-", project.name.lower()).strip("-") or "student"


def trained_model(run: RunFolder, which: str) -> ModelFolder:
    """The finished student to export: ``trained`` (seeds + synthetic data) or ``seeds``."""
    if which not in ("trained", "seeds"):
        raise GerminateError(f"--model {which}: expected trained or seeds")
    folder = run.model(seeds_only=which == "seeds")
    if not folder.trained:
        flag = " --seeds-only" if which == "seeds" else ""
        raise GerminateError(f"{folder.path}: no finished student to export; run `germinate train{flag}` first")
    return folder


def _train_config(model: ModelFolder) -> dict[str, Any]:
    try:
        return json.loads(model.train_config.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}


def system_prompt(project: Project, model: ModelFolder) -> str:
    """The system prompt the student was trained with, as predict and serve give it
    (germinate.student.messages: train_config.json's ``system_text``; the description for an
    adapter trained before that was recorded); empty when it was trained without one."""
    from germinate.student.messages import trained_system

    return trained_system(model.adapter, project.config) or ""


def merged_folder(model: ModelFolder) -> Path:
    """The merged student (``germinate train --merge`` writes it); merged now when it is missing
    or older than the adapter."""
    adapter_weights = [p for p in model.adapter.glob("adapter_model.*") if p.is_file()]
    merged_config = model.merged / "config.json"
    fresh = merged_config.exists() and all(merged_config.stat().st_mtime >= p.stat().st_mtime for p in adapter_weights)
    if not fresh:
        from germinate.student.train import merge

        shutil.rmtree(model.merged, ignore_errors=True)
        merge(model)
    return model.merged


def convert_to_gguf(merged: Path, out: Path, quant: str) -> Path:
    """``merged`` (a Hugging Face folder) as one GGUF file at ``out``: llama.cpp's converter
    writes f16, then llama.cpp quantises it. Written beside and renamed, so ``out`` is whole."""
    if quant not in QUANTS:
        raise GerminateError(f"--quant {quant}: expected one of {', '.join(QUANTS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    f16 = out.with_name(out.stem + ".f16.partial")
    env = {k: v for k, v in os.environ.items() if k != "NO_LOCAL_GGUF"}  # its own gguf writer, beside it
    converter = converter_script()
    done = subprocess.run(
        [sys.executable, str(converter), str(merged), "--outfile", str(f16), "--outtype", "f16"],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        f16.unlink(missing_ok=True)
        last = [line for line in done.stderr.splitlines() if line.strip()][-3:]
        raise GerminateError(f"{merged}: llama.cpp's converter failed: {' | '.join(last) or done.returncode}")
    if quant == "f16":
        os.replace(f16, out)
        return out
    partial = out.with_name(out.name + ".partial")
    try:
        quantize(f16, partial, quant)
        os.replace(partial, out)
    finally:
        f16.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return out


def quantize(source: Path, target: Path, quant: str) -> None:
    """llama.cpp's own quantiser, through the llama_cpp bindings."""
    import llama_cpp
    from llama_cpp._utils import suppress_stdout_stderr

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = QUANTS[quant]
    params.nthread = os.cpu_count() or 1
    with suppress_stdout_stderr(disable=False):
        failed = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), params)
    if failed:
        raise GerminateError(f"{source}: llama.cpp could not quantise it to {quant} (code {failed})")


def gguf_chat_template(path: Path) -> str | None:
    """The chat template a GGUF file carries (``tokenizer.chat_template``), if any."""
    from gguf import GGUFReader

    field = GGUFReader(str(path)).get_field("tokenizer.chat_template")
    return None if field is None else field.contents()


# -- Ollama -------------------------------------------------------------------------------------------


@attrs.frozen
class TemplatePieces:
    """A chat template cut at the message contents: each role's text before and after its content,
    and the prompt that asks for the assistant's turn."""

    system: tuple[str, str]
    user: tuple[str, str]
    assistant: tuple[str, str]
    generation: str

    def render(self, messages: list[dict[str, str]]) -> str:
        """What the Ollama template built from these pieces renders for ``messages``."""
        out = ""
        for message in messages:
            before, after = getattr(self, message["role"])
            out += before + message["content"] + after
        return out + self.generation


_MARKS = {
    "system": "\x01SYSTEM\x01",
    "user": "\x01USER\x01",
    "assistant": "\x01ASSISTANT\x01",
    "user2": "\x01USER2\x01",
}


def template_pieces(tokenizer: Any) -> TemplatePieces:
    """Cut the tokenizer's chat template at marker contents, then check that the pieces rebuild a
    longer conversation exactly; a template whose turns depend on their position (one that folds
    the system prompt into the first user turn, say) cannot be an Ollama template and is refused."""

    def render(roles: list[str], generation: bool) -> str:
        messages = [{"role": "user" if r == "user2" else r, "content": _MARKS[r]} for r in roles]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)

    def between(text: str, start: str | None, end: str | None) -> str:
        lo = text.index(_MARKS[start]) + len(_MARKS[start]) if start else 0
        return text[lo : text.index(_MARKS[end]) if end else len(text)]

    try:
        system_only = render(["system"], False)
        turn = render(["system", "user"], False)
        asked = render(["system", "user"], True)
        longer = render(["system", "user", "assistant", "user2"], False)
        system = (between(system_only, None, "system"), between(system_only, "system", None))
        user_before = between(turn, "system", "user")[len(system[1]) :]
        user = (user_before, between(turn, "user", None))
        assistant_before = between(longer, "user", "assistant")[len(user[1]) :]
        assistant = (assistant_before, between(longer, "assistant", "user2")[: -len(user_before) or None])
        pieces = TemplatePieces(system, user, assistant, asked[len(turn) :])
    except (ValueError, KeyError) as exc:
        raise GerminateError(f"the student's chat template cannot be cut into turns for Ollama ({exc})") from None
    check = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
        {"role": "assistant", "content": "two"},
        {"role": "user", "content": "three"},
        {"role": "assistant", "content": "four"},
        {"role": "user", "content": "five"},
    ]
    expected = tokenizer.apply_chat_template(check, tokenize=False, add_generation_prompt=True)
    if pieces.render(check) != expected:
        raise GerminateError(
            "the student's chat template renders turns differently by position; Ollama's TEMPLATE "
            "cannot express it (write the Modelfile's TEMPLATE by hand)"
        )
    return pieces


def _go_text(text: str) -> str:
    if '"""' in text or "{{" in text:
        raise GerminateError(f"the chat template piece {text!r} cannot be written into a Modelfile")
    return text


def ollama_template(pieces: TemplatePieces) -> str:
    """The Go template Ollama renders: the system prompt, then each user and assistant message,
    then the assistant's prompt. No whitespace trimming: the pieces' newlines are the template's."""
    s, u, a = (tuple(_go_text(x) for x in pair) for pair in (pieces.system, pieces.user, pieces.assistant))
    return (
        f"{{{{ if .System }}}}{s[0]}{{{{ .System }}}}{s[1]}{{{{ end }}}}"
        f'{{{{ range .Messages }}}}{{{{ if eq .Role "user" }}}}{u[0]}{{{{ .Content }}}}{u[1]}'
        f'{{{{ else if eq .Role "assistant" }}}}{a[0]}{{{{ .Content }}}}{a[1]}{{{{ end }}}}{{{{ end }}}}'
        f"{_go_text(pieces.generation)}"
    )


def stop_tokens(tokenizer: Any, pieces: TemplatePieces) -> list[str]:
    """Where the student's answer ends: the end of an assistant turn, the end-of-sequence token,
    and any special token that opens a turn."""
    found = [pieces.assistant[1].strip(), tokenizer.eos_token or ""]
    opening = pieces.user[0] + pieces.assistant[0]
    found += [t for t in tokenizer.all_special_tokens if t and t in opening]
    return [t for t in dict.fromkeys(found) if t]


def _quoted(text: str) -> str:
    if '"""' in text:
        raise GerminateError('the system prompt contains """, which a Modelfile cannot hold')
    return f'"""{text}"""'


def write_ollama(folder: Path, gguf: Path, name: str, tokenizer: Any, system: str) -> list[Path]:
    """The Modelfile and README beside ``gguf`` in ``folder``."""
    pieces = template_pieces(tokenizer)
    lines = [
        f"# {name}: a germinate student. Create and run it with:",
        f"#   ollama create {name} -f Modelfile && ollama run {name}",
        f"FROM ./{gguf.name}",
        f"TEMPLATE {_quoted(ollama_template(pieces))}",
        f"SYSTEM {_quoted(system)}",
        *(f"PARAMETER stop {json.dumps(token)}" for token in stop_tokens(tokenizer, pieces)),
        "PARAMETER temperature 0",
        "",
    ]
    modelfile(folder).write_text("\n".join(lines), encoding="utf-8")
    readme = model_card(folder)
    readme.write_text(
        f"# {name} for Ollama\n\n"
        f"`{gguf.name}` is the student germinate trained, as one GGUF file; `Modelfile` gives Ollama "
        "its chat template, the system prompt it was trained with and where its answers stop.\n\n"
        "```bash\n"
        f"ollama create {name} -f Modelfile\n"
        f'ollama run {name} "your input here"\n'
        "```\n\n"
        "Any llama.cpp program reads the GGUF directly too (it carries the chat template), e.g.\n"
        f"`python -m llama_cpp.server --model {gguf.name}`.\n",
        encoding="utf-8",
    )
    return [modelfile(folder), readme]


# -- model cards -------------------------------------------------------------------------------------


def base_license(student: StudentSettings) -> str:
    """The base model's licence: known for the embedded models, read from a Hugging Face folder's
    own card when it has one, else unknown."""
    if student.model in EMBEDDED:
        return EMBEDDED[student.model].license
    card = Path(student.model).expanduser() / "README.md"
    if card.is_file():
        found = re.search(r"^license:\s*(\S+)", card.read_text(encoding="utf-8", errors="replace"), re.M)
        if found:
            return found.group(1)
    return "unknown"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _evaluation_lines(run: RunFolder) -> list[str]:
    report = _read_json(report_path(run.path, "json"))
    if isinstance(report, list):
        report = report[0] if report else None
    if not isinstance(report, dict) or not report.get("points"):
        return ["No evaluation yet: `germinate evaluate` writes report.json, and a new export includes it.", ""]
    lines = [
        f"On {report.get('test_examples')} test examples, {report.get('metric')} "
        "(mean over training repeats; teacher: k-shot prompted; base: the untuned student):",
        "",
        "| model | score | std |",
        "|---|---|---|",
    ]
    for point, summary in report["points"].items():
        std = summary.get("std")
        lines.append(f"| {point} | {summary.get('mean', 0):.3f} | {'-' if std is None else f'{std:.3f}'} |")
    return lines + [""]


def card_text(
    project: Project, run: RunFolder, model: ModelFolder, student: StudentSettings, kind: str, system: str
) -> str:
    """The model card of an exported merged model or adapter."""
    import yaml

    config = _train_config(model)
    validation = _read_json(run.validation_summary) or {}
    accepted = run.rows(run.accepted)
    seeds = sum(1 for r in accepted if r.get("source") == "seed")
    teachers = sorted({str(r.get("teacher")) for r in accepted if r.get("source") != "seed" and r.get("teacher")})
    teacher_section: dict[str, Any] = project.section("teacher")
    teacher = ", ".join(teachers) or teacher_section.get("model") or "the embedded local teacher"
    licence = base_license(student)
    front = {
        "license": licence if licence != "unknown" else "other",
        "library_name": "peft" if kind == "adapter" else "transformers",
        "tags": ["germinate", project.task_type.name, "lora" if kind == "adapter" else "merged-lora"],
    }
    lines = [
        "---",
        yaml.safe_dump(front, sort_keys=False).strip(),
        "---",
        "",
        f"# {project.name}: a germinate student ({'LoRA adapter' if kind == 'adapter' else 'merged model'})",
        "",
        f"A `{project.task_type.name}` model fine-tuned with LoRA on seed examples and synthetic examples "
        "that a teacher model wrote and a validation cascade accepted.",
        "",
        "## Task",
        "",
        project.config.get("description", "").strip(),
        "",
        f"System prompt it was trained with: {json.dumps(system, ensure_ascii=False)}",
        "",
        "## Base model and licence",
        "",
        f"Base: `{student.model}` (weights from `{config.get('student_folder', '?')}`); licence: {licence}.",
        "The fine-tuned weights inherit the base model's licence.",
        "",
        "## Data",
        "",
        f"* teacher: {teacher}",
        f"* {seeds} seed examples, {len(accepted) - seeds} accepted synthetic examples"
        f" ({config.get('examples', '?')} trained on, {config.get('held_out', '?')} held out for the validation loss"
        + ("; seeds only" if config.get("seeds_only") else "")
        + ")",
    ]
    if validation:
        rejected = ", ".join(f"{name} {r['count']}" for name, r in validation.get("rejected", {}).items())
        lines.append(
            f"* validation cascade ({' -> '.join(validation.get('order', []))}): {validation.get('candidates', 0)} "
            f"candidates, {validation.get('accepted', 0)} accepted; rejected by {rejected or 'none'}"
        )
    lines += [
        "",
        "## Training",
        "",
        "LoRA " + ", ".join(f"{k} {config[k]}" for k in ("epochs", "learning_rate", "lora_rank", "lora_alpha",
                                                        "target_modules", "batch_size", "seed") if k in config),
        "",
        "## Evaluation",
        "",
        *_evaluation_lines(run),
        "## Use",
        "",
        "```python",
    ]  # fmt: skip
    if kind == "adapter":
        lines += [
            "from peft import AutoPeftModelForCausalLM",
            "from transformers import AutoTokenizer",
            "",
            'model = AutoPeftModelForCausalLM.from_pretrained("PATH/TO/THIS/FOLDER")',
            "# adapter_config.json names the base weights it was trained on; point base_model_name_or_path",
            "# at your copy of them (the merged export needs no base model).",
        ]
    else:
        lines += [
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            "",
            'model = AutoModelForCausalLM.from_pretrained("PATH/TO/THIS/FOLDER")',
        ]
    lines += [
        'tokenizer = AutoTokenizer.from_pretrained("PATH/TO/THIS/FOLDER")',
        f"messages = [{{'role': 'system', 'content': {system!r}}}, {{'role': 'user', 'content': '...'}}]",
        "```",
        "",
    ]
    return "\n".join(lines)


# -- the formats -------------------------------------------------------------------------------------


def _copy_folder(source: Path, target: Path) -> None:
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.copytree(source, partial)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)


def export_model(
    project: Project,
    run: RunFolder,
    fmt: str,
    dest: ExportFolder,
    student: StudentSettings,
    *,
    which: str = "trained",
    quant: str = "q8_0",
) -> ExportResult:
    """Write the student in format ``fmt`` under ``dest``."""
    if fmt not in FORMATS:
        raise GerminateError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    model = trained_model(run, which)
    system = system_prompt(project, model)
    name = export_name(project)
    if fmt in ("merged", "adapter"):
        source = merged_folder(model) if fmt == "merged" else model.adapter
        target = dest.merged if fmt == "merged" else dest.adapter
        _copy_folder(source, target)
        model_card(target).write_text(card_text(project, run, model, student, fmt, system), encoding="utf-8")
        return ExportResult(fmt, target, tuple(sorted(p for p in target.iterdir())), system_prompt=system)
    merged = merged_folder(model)
    if fmt == "gguf":
        out = convert_to_gguf(merged, dest.gguf(name, quant), quant)
        return ExportResult(fmt, out, (out,), quant, system)
    folder = dest.ollama
    folder.mkdir(parents=True, exist_ok=True)
    from germinate.student.load import load_tokenizer

    tokenizer = load_tokenizer(str(merged))
    template_pieces(tokenizer)  # refuse an inexpressible template before the long conversion
    gguf = convert_to_gguf(merged, folder / f"{name}-{quant}.gguf", quant)
    for stale in folder.glob("*.gguf"):
        if stale != gguf:
            stale.unlink()
    files = write_ollama(folder, gguf, name, tokenizer, system)
    return ExportResult(fmt, folder, (gguf, *files), quant, system)
