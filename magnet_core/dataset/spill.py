"""A write-once store of objects on disk, read back one at a time by handle.

Assembly sees every input sample once (to hash, validate and key it) but writes only the selected ones,
in id order, after dedup and the mixture have looked at all of them. Holding the samples in memory until
then made the assemble process grow with the dataset (~24 KiB per sample); the spill keeps them in an
anonymous temporary file instead (unlinked from the start, so a crash or a kill leaves nothing behind),
and assembly holds only a handle per sample. Objects are pickled, so what comes back is the very object
that went in (metadata types, NaN and all), and rows, rejects and stats are computed from it exactly as
from the in-memory sample. The rare object that cannot be pickled stays in memory under its handle.
"""

from __future__ import annotations

import pickle
import tempfile
from array import array
from bisect import bisect_right
from pathlib import Path
from typing import Any


class Spill:
    """Append with `put` (returns a handle), read with `get`; close (or use as a context) to free the file."""

    def __init__(self, directory: Path | None = None, *, path: Path | None = None) -> None:
        """`path`: a named file that outlives the spill (a prepared shard, read back by `SpillSet`)."""
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._persistent = path is not None
        self._file = open(path, "w+b") if path is not None else tempfile.TemporaryFile(dir=directory)
        self._offsets = array("q")
        self._lengths = array("q")
        self._in_memory: dict[int, Any] = {}
        self._end = 0

    def put(self, item: Any) -> int:
        handle = len(self._offsets)
        try:
            data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # e.g. a metadata value of a local class
            if self._persistent:  # a file read by another process cannot hold it
                raise
            self._in_memory[handle] = item
            data = b""
        self._file.seek(self._end)
        self._file.write(data)
        self._offsets.append(self._end)
        self._lengths.append(len(data))
        self._end += len(data)
        return handle

    def get(self, handle: int) -> Any:
        if handle in self._in_memory:
            return self._in_memory[handle]
        self._file.seek(self._offsets[handle])
        return pickle.loads(self._file.read(self._lengths[handle]))

    def __len__(self) -> int:
        return len(self._offsets)

    def index(self) -> tuple[array, array]:
        """Offsets and lengths of every object, by handle: what `SpillSet.add` needs to read the file back."""
        return self._offsets, self._lengths

    def close(self) -> None:
        self._file.close()
        self._in_memory.clear()

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SpillSet:
    """Read-only view of several spill files (one per prepared shard) under one handle space.

    `add` returns the handle base of a file: its object `h` is then `base + h`, so records made per shard
    are merged by shifting their handles, and assembly reads rows back exactly as from one spill."""

    def __init__(self) -> None:
        self._bases: list[int] = []
        self._files: list[Any] = []
        self._index: list[tuple[array, array]] = []
        self._size = 0

    def add(self, path: Path, offsets: array, lengths: array) -> int:
        base = self._size
        self._bases.append(base)
        self._files.append(open(path, "rb"))
        self._index.append((offsets, lengths))
        self._size += len(offsets)
        return base

    def get(self, handle: int) -> Any:
        part = bisect_right(self._bases, handle) - 1
        offsets, lengths = self._index[part]
        local = handle - self._bases[part]
        stream = self._files[part]
        stream.seek(offsets[local])
        return pickle.loads(stream.read(lengths[local]))

    def __len__(self) -> int:
        return self._size

    def close(self) -> None:
        for stream in self._files:
            stream.close()
        self._files.clear()

    def __enter__(self) -> "SpillSet":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
