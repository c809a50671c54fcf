"""Progress bars for management commands (tqdm on the command's stderr)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def command_progress(command, verbosity: int):
    """A `progress(iterable, total, desc)` callable that draws on the command's stderr."""

    def progress(items: Iterable[T], total: int | None = None, desc: str = "") -> Iterable[T]:
        return tqdm(
            items, total=total, desc=desc, file=command.stderr._out, disable=verbosity < 1,
            leave=False, unit="",
        )

    return progress
