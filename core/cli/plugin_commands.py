"""The names and one-line help of commands that plugins add, remembered between runs so that
``germinate --help`` lists them without importing every plugin (importing them is most of the
start-up time). Running a plugin's command always loads the plugins; only the listing is cached.

The listing is keyed by the distributions on ``sys.path``: the names and modification times of
their ``.dist-info`` (``.egg-info``, ``.pth``) entries, which installing, upgrading or removing
one changes. A plugin whose code is edited in place (an editable install) shows a new command in
``--help`` after its next install; running the command works at once. The file lives in the user's cache
folder (``$XDG_CACHE_HOME/germinate``), one per interpreter prefix; when it cannot be written,
nothing is cached and nothing fails.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

#: what installing, upgrading or removing a distribution adds, replaces or removes
_METADATA = (".dist-info", ".egg-info", ".egg-link", ".pth")


def _cache_file() -> Path | None:
    try:
        root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    except (KeyError, RuntimeError):  # no home folder to be found: nothing is remembered
        return None
    prefix = hashlib.sha256(sys.prefix.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return root / "germinate" / f"cli-commands-{prefix}.json"


def _installed_key() -> str:
    """A digest of the distributions on ``sys.path``: each folder's metadata entries and their times."""
    digest = hashlib.sha256()
    for folder in sys.path:
        try:
            names = sorted(n for n in os.listdir(folder or ".") if n.endswith(_METADATA))
        except OSError:
            continue
        for name in names:
            try:
                stamp = os.stat(os.path.join(folder or ".", name)).st_mtime_ns
            except OSError:
                stamp = None
            digest.update(f"{folder}\0{name}\0{stamp}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def cached() -> dict[str, str] | None:
    """{command: one-line help} as last seen for what is installed now; None when unknown."""
    path = _cache_file()
    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != _installed_key():
        return None
    commands = data.get("commands")
    if not isinstance(commands, dict) or not all(isinstance(v, str) for v in commands.values()):
        return None
    return commands


def remember(commands: dict[str, str]) -> None:
    """Store the listing for what is installed now (best effort: a read-only home is fine)."""
    path = _cache_file()
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps({"key": _installed_key(), "commands": commands}), encoding="utf-8")
        os.replace(partial, path)
    except OSError:
        pass
