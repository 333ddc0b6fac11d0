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
from pathlib import Path
from typing import Any


class Spill:
    """Append with `put` (returns a handle), read with `get`; close (or use as a context) to free the file."""

    def __init__(self, directory: Path | None = None) -> None:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        self._file = tempfile.TemporaryFile(dir=directory)
        self._offsets = array("q")
        self._lengths = array("q")
        self._in_memory: dict[int, Any] = {}
        self._end = 0

    def put(self, item: Any) -> int:
        handle = len(self._offsets)
        try:
            data = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):  # e.g. a metadata value of a local class
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

    def close(self) -> None:
        self._file.close()
        self._in_memory.clear()

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
