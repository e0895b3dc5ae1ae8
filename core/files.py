"""The one way germinate reads a file it was handed: a regular file only, at most a given number
of bytes, and never through a link that leads out of the project.

A FIFO or a device would block or never end, ``/dev/zero`` would fill memory, a 2 GB file in
``context/`` would too, and ``context/x.txt -> /etc/passwd`` would put a system file into teacher
prompts. Each is refused with one ``file: message`` line before anything is read. The file is
opened non-blocking (opening a FIFO with no writer would otherwise wait forever) and checked with
``fstat`` on the open descriptor, so what is checked is what is read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from germinate.problems import GerminateError, Problem

#: how deeply JSON and YAML values may nest (a record or a task.yaml deeper than this is refused)
MAX_DEPTH = 64
#: the longest integer, in digits, JSON and YAML may spell
MAX_INT_DIGITS = 100

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def megabytes(size: float) -> str:
    """A size for messages: ``1.5 MB``, ``300 kB``, ``12 bytes``."""
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    if size >= 1e6:
        return f"{size / 1e6:.1f} MB"
    if size >= 1e3:
        return f"{size / 1e3:.1f} kB"
    return f"{int(size)} bytes"


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, every link followed, lies in ``root`` (also with links followed)."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def _too_big(display: str, size: int, limit: int, setting: str) -> GerminateError:
    advice = (
        f"; raise {setting} in task.yaml if the file is meant to be this big" if setting.startswith("limits.") else ""
    )
    return GerminateError(
        Problem(display, None, None, f"{megabytes(size)}, more than {setting} allows ({megabytes(limit)}){advice}")
    )


@contextmanager
def open_bounded(path: Path, display: str, *, limit: int, setting: str, root: Path | None = None) -> Iterator[BinaryIO]:
    """An open binary handle on ``path`` once it is known to be a regular file of at most ``limit``
    bytes (inside ``root`` when given); otherwise a GerminateError naming ``display`` and, for a
    size, the ``setting`` that caps it (a ``limits.`` name, which the message advises raising, or
    words such as "the cap on task.yaml")."""
    if root is not None and not inside(path, root):
        raise GerminateError(
            Problem(display, None, None, "a link that leads out of the project; copy the file into the project instead")
        )
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise GerminateError(Problem(display, None, None, "no such file")) from None
    except OSError as exc:
        raise GerminateError(Problem(display, None, None, f"cannot read: {exc.strerror or exc}")) from None
    try:
        info = os.fstat(fd)
        for test, kind in _KINDS:
            if test(info.st_mode):
                raise GerminateError(Problem(display, None, None, f"is {kind}, not a regular file"))
        if not stat.S_ISREG(info.st_mode):
            raise GerminateError(Problem(display, None, None, "not a regular file"))
        if info.st_size > limit:
            raise _too_big(display, info.st_size, limit, setting)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def read_bytes(path: Path, display: str, *, limit: int, setting: str, root: Path | None = None) -> bytes:
    """The whole of a regular file of at most ``limit`` bytes (see :func:`open_bounded`)."""
    with open_bounded(path, display, limit=limit, setting=setting, root=root) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise GerminateError(Problem(display, None, None, f"cannot read: {exc.strerror or exc}")) from None
    if len(data) > limit:  # it grew after it was measured
        raise _too_big(display, len(data), limit, setting)
    return data


#: the byte order mark some editors (Windows Notepad, Excel's "CSV UTF-8") put before UTF-8 text
BOM = b"\xef\xbb\xbf"


def decode(data: bytes, display: str, line: int | None = None) -> str:
    """UTF-8 text, without the byte order mark it may start with, or one line saying where it is
    not UTF-8."""
    skip = len(BOM) if data.startswith(BOM) else 0
    try:
        return str(memoryview(data)[skip:], "utf-8")  # no copy of a big file
    except UnicodeDecodeError as exc:
        raise GerminateError(
            Problem(display, line, None, f"not UTF-8 text ({exc.reason} at byte {exc.start + skip})")
        ) from None


def read_text(path: Path, display: str, *, limit: int, setting: str, root: Path | None = None) -> str:
    """A regular UTF-8 text file of at most ``limit`` bytes."""
    return decode(read_bytes(path, display, limit=limit, setting=setting, root=root), display)
