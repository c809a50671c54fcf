"""What every importer shares: a summary of what changed, progress reporting, gzip input."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

T = TypeVar("T")

# progress(iterable, total, description) -> iterable; the commands pass a tqdm bar.
Progress = Callable[[Iterable[T], int | None, str], Iterable[T]]


def no_progress[T](items: Iterable[T], total: int | None = None, desc: str = "") -> Iterator[T]:
    yield from items


class ImportFailed(Exception):
    """The input cannot be imported; nothing was written."""


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def line(self, noun: str) -> str:
        prefix = "Dry run, nothing written. Would have: " if self.dry_run else ""
        return (
            f"{prefix}{noun}: {self.created} created, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.skipped} skipped"
        )


def open_text(path: Path | str) -> IO[str]:
    """Open a UTF-8 text file, transparently gunzipping `*.gz`."""
    path = Path(path)
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open("r", encoding="utf-8-sig", newline="")


def open_binary(path: Path | str) -> io.BufferedIOBase:
    path = Path(path)
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    if path.suffix == ".gz":
        return gzip.GzipFile(path, "rb")
    return path.open("rb")
