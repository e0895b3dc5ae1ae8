"""The corpus of deliberately broken inputs in tests/corpus/broken, and a guarded way to run them.

Each case folder holds ``case.yaml`` and the files that replace or add to its base's:

* ``base``: the project (or, for ``init --from``, the benchmark-style folder) in
  tests/corpus/base it starts from; ``delete``: files to remove;
* ``make``: things a git checkout cannot hold, made at run time: ``fifo: PATH``, ``link: PATH``
  with ``to: TARGET`` (absolute, or relative to the link), ``sparse: PATH`` with ``size: BYTES``
  (a big file that takes no disk), ``repeat: PATH`` with ``parts: [[TEXT, TIMES], ...]`` (a big
  or deep text), ``folder: PATH``;
* ``commands``: ``project`` (the default: every command that loads the project), or a list of
  argument lists in which ``{project}``, ``{outside}`` and ``{new}`` name the case's folders;
* ``expect``: the exact lines every one of those commands must print on stderr (exit code 2).

A case is materialized in a folder ``ROOT`` as ``ROOT/project`` (the broken input),
``ROOT/outside`` (what links point at and escapes would reach) and ``ROOT/home`` (HOME and every
cache). :func:`run_guarded` runs the case's commands in a forked child under an address-space
limit and a timeout, in process (no interpreter start per command), and reports each command's
exit code and output, any exception, and the digest of all of ROOT before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import select
import shutil
import signal
import stat
import time
import traceback
from pathlib import Path

import yaml

CORPUS = Path(__file__).parent / "corpus"
#: every command that loads a project (serve aside: it is tested with its own server)
PROJECT_COMMANDS = [
    ["check", "{project}"],
    ["generate", "{project}", "--dry-run"],
    ["generate", "{project}"],
    ["validate", "{project}"],
    ["train", "{project}"],
    ["evaluate", "{project}"],
    ["run", "{project}"],
    ["predict", "{project}", "--input", "{outside}/input.jsonl"],
    ["ask", "{project}", "hello", "--dry-run"],
]
#: address space a case may add to the process it forks from
HEADROOM = 1 << 30
#: seconds one command may take (a hang is what this catches; a healthy one takes well under 1 s)
COMMAND_SECONDS = 30


def cases() -> list[Path]:
    return sorted(p for p in (CORPUS / "broken").iterdir() if (p / "case.yaml").exists())


def meta(case: Path) -> dict:
    return yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))


def commands(case: Path) -> list[list[str]]:
    """The case's commands with its folders filled in (relative to ROOT)."""
    chosen = meta(case).get("commands", "project")
    listed = PROJECT_COMMANDS if chosen == "project" else chosen
    names = {"project": "project", "outside": "outside", "new": "new"}
    return [[str(arg).format(**names) for arg in command] for command in listed]


def _make(dest: Path, entry: dict) -> None:
    if "fifo" in entry:
        target = dest / entry["fifo"]
        target.unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(target)
    elif "link" in entry:
        target = dest / entry["link"]
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(entry["to"], target)
    elif "sparse" in entry:
        target = dest / entry["sparse"]
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as handle:
            handle.truncate(int(entry["size"]))
    elif "repeat" in entry:
        target = dest / entry["repeat"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(
            "".join(text * times for text, times in entry["parts"]), encoding="utf-8", errors="surrogatepass"
        )
    elif "folder" in entry:
        (dest / entry["folder"]).mkdir(parents=True, exist_ok=True)
    else:
        raise ValueError(f"unknown make entry {entry}")


def materialize(case: Path, dest: Path) -> Path:
    """The case's broken input at ``dest`` (its base, its files, then ``delete`` and ``make``)."""
    info = meta(case)
    shutil.copytree(CORPUS / "base" / info["base"], dest)
    for name in info.get("delete", []):
        (dest / name).unlink()
    for source in sorted(case.rglob("*")):
        rel = source.relative_to(case)
        if source.is_dir() or rel == Path("case.yaml"):
            continue
        target = dest / rel
        for parent in reversed(target.relative_to(dest).parents[:-1]):
            if (dest / parent).is_file():
                (dest / parent).unlink()
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    for entry in info.get("make", []):
        _make(dest, entry)
    return dest


def materialize_root(case: Path, root: Path) -> Path:
    """ROOT with project/, outside/ and home/ (see the module docstring)."""
    materialize(case, root / "project")
    outside = root / "outside"
    (outside / "docs").mkdir(parents=True)
    (outside / "secret.txt").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (outside / "docs" / "a.txt").write_text("A document outside the project.\n")
    (outside / "input.jsonl").write_text(json.dumps({"input": "fine", "output": "positive"}) + "\n")
    shutil.copyfile(CORPUS / "base" / "classification" / "task.yaml", outside / "task.yaml")
    (root / "home").mkdir()
    return root


def existing_run(project: Path) -> Path:
    """A run folder as an earlier generation left it."""
    run = project / "runs" / "default"
    run.mkdir(parents=True)
    row = {"index": 0, "id": "c0", "record": {"input": "what is up", "output": "x"}, "theta": {}}
    (run / "candidates.jsonl").write_text(json.dumps(row) + "\n")
    (run / "accepted.jsonl").write_text("")
    (run / "rejected.jsonl").write_text(json.dumps({**row, "validator": "schema"}) + "\n")
    return run


def digest(root: Path) -> dict[str, str]:
    """Every entry under ``root`` by what it is: a file's sha256, a link's target, a FIFO, a folder.
    Files are read only when regular (reading a FIFO would block)."""
    out = {}
    for here, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(here) / name
            info = path.lstat()
            rel = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                out[rel] = "link:" + os.readlink(path)
            elif stat.S_ISDIR(info.st_mode):
                out[rel] = "folder"
            elif stat.S_ISREG(info.st_mode) and info.st_size < 10_000_000:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISREG(info.st_mode):
                out[rel] = f"big:{info.st_size}:{info.st_mtime_ns}"
            else:
                out[rel] = f"special:{stat.S_IFMT(info.st_mode)}"
    return out


class CommandTimeout(BaseException):
    """Raised in a command that ran too long: a BaseException, so that no ``except Exception`` (nor
    the CLI's handling of OSError, which TimeoutError is) can turn it into an ordinary error."""


def _address_space() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _child(root: Path, argv: list[list[str]], write: int) -> None:
    from germinate.testing import run_germinate

    limit = _address_space() + HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.chdir(root)
    os.environ.update(
        HOME=str(root / "home"),
        XDG_CACHE_HOME=str(root / "home" / ".cache"),
        GERMINATE_MODEL_CACHE=str(root / "home" / "models"),
    )

    def alarm(_signum, _frame):
        raise CommandTimeout(f"still running after {COMMAND_SECONDS} s")

    signal.signal(signal.SIGALRM, alarm)
    results = []
    for args in argv:
        signal.alarm(COMMAND_SECONDS)
        started = time.monotonic()
        try:
            done = run_germinate(*args)
            results.append({"args": args, "exit": done.exit_code, "stdout": done.stdout, "stderr": done.stderr})
        except BaseException:  # a traceback, a MemoryError under the limit, a timeout
            results.append({"args": args, "exception": traceback.format_exc()})
        finally:
            signal.alarm(0)
        results[-1]["seconds"] = round(time.monotonic() - started, 2)
    payload = json.dumps(results).encode()
    view = memoryview(payload)
    while view:
        view = view[os.write(write, view) :]
    os.close(write)


_WARM = []


def _warm() -> None:
    """Import, once in this process, what the commands import lazily: each forked child then starts
    with them loaded instead of importing them again (and the child's limit counts them)."""
    if _WARM:
        return
    import importlib

    for name in (
        "germinate.cli",
        "germinate.pipeline",
        "germinate.project.load",
        "germinate.project.scaffold",
        "germinate.validate.replay",
        "germinate.generate.loop",
        "germinate.teachers.setup",
        "germinate.student.infer",
        "germinate.evaluate.points",
        "jsonschema",
        "regex",
        "rich.console",
        "rich.progress",
        "rich.table",
    ):
        importlib.import_module(name)
    from germinate.cli.root import COMMANDS

    for module, _, _ in COMMANDS.values():  # the command modules load on use
        importlib.import_module(f"germinate.cli.{module}")
    from germinate.plugins import get_plugins
    from germinate.project.errors import schema_problems
    from germinate.project.schemas import check_user_schema

    get_plugins().listing()
    list(schema_problems({"type": "object", "properties": {"a": {"pattern": "^a"}}}, {"a": "a"}))
    check_user_schema({"type": "object"})
    _WARM.append(True)


def run_guarded(root: Path, argv: list[list[str]]) -> list[dict]:
    """Run each argument list through the CLI in a forked child (address space limited to what
    this process uses plus HEADROOM, each command under COMMAND_SECONDS), with ROOT as working
    directory and home; returns each command's outcome."""
    _warm()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read)
            _child(root, argv, write)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            os._exit(code)
    os.close(write)
    chunks = []
    deadline = time.monotonic() + COMMAND_SECONDS * (len(argv) + 1)
    timed_out = False
    try:
        while not timed_out:
            left = deadline - time.monotonic()
            ready = select.select([read], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                timed_out = True
            else:
                chunk = os.read(read, 1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read)
        if timed_out:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if timed_out:
        raise TimeoutError(f"the guarded commands did not finish in {COMMAND_SECONDS * (len(argv) + 1)} s")
    return json.loads(b"".join(chunks) or b"[]")
