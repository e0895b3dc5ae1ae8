"""The documents in a project's ``context/`` folder, found and read within bounds.

Only regular files inside the project are documents: a link out of the project (``context/x.txt
-> /etc/passwd``), a FIFO or a device is refused with one line, and so is a link to a folder (it
is not followed). Each file is capped by ``limits.context_file_mb`` and all of them together by
``limits.context_total_mb``. Names starting with a dot are left out.
"""

from __future__ import annotations

import os
from pathlib import Path

from germinate.files import decode, inside, megabytes, read_bytes
from germinate.problems import GerminateError, Problem, located
from germinate.settings import InputLimits

CONTEXT_DIR = "context"


def read_document(root: Path, path: Path, limits: InputLimits) -> str:
    """One document's text, read as ``germinate check`` read it (bounded, inside the project)."""
    display = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    data = read_bytes(path, display, limit=limits.bytes("context_file_mb"), setting="limits.context_file_mb", root=root)
    return decode(data, display)


def context_files(root: Path, limits: InputLimits, problems: list[Problem]) -> list[Path]:
    """Every document in ``context/``, each read once to check it; problems are appended."""
    folder = root / CONTEXT_DIR
    if not folder.exists() and not folder.is_symlink():
        return []
    if not inside(folder, root):
        problems.append(Problem(CONTEXT_DIR, None, None, "a link that leads out of the project; copy the documents in"))
        return []
    if not folder.is_dir():
        problems.append(Problem(CONTEXT_DIR, None, None, "expected a folder of documents"))
        return []
    files: list[Path] = []
    for here, dirs, names in os.walk(folder, followlinks=False):
        base = Path(here)
        for name in sorted(dirs):
            if (base / name).is_symlink():
                problems.append(
                    Problem(
                        str((base / name).relative_to(root)),
                        None,
                        None,
                        "a link to a folder, which is not followed; copy the documents into context/",
                    )
                )
        dirs.sort()
        files += [base / name for name in names if not name.startswith(".")]
    total = 0
    budget = limits.bytes("context_total_mb")
    for path in sorted(files):
        try:
            total += len(read_document(root, path, limits).encode("utf-8"))
        except GerminateError as exc:
            problems.extend(located(exc.problems))
            continue
        if total > budget:
            problems.append(
                Problem(
                    CONTEXT_DIR,
                    None,
                    None,
                    f"more than limits.context_total_mb allows in all ({megabytes(budget)}); "
                    f"raise it in task.yaml if the documents are meant to be this big",
                )
            )
            return []
    return sorted(files)
