"""Optional export of the SFT rows in BFCL's textual form (`[f(a=1), g(b="x")]` per turn).

One JSON Lines file per category under `bfcl/`, shaped like BFCL's own files (`id`, `question` as
turns of user messages, `function`), with `ground_truth` as the call text of each turn. Records are
written as the rows stream past (one open file per category), never gathered.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import IO

from magnet_core.dataset.text import turn_calls
from magnet_core.domain import Trajectory


def bfcl_record(trajectory: Trajectory) -> dict:
    questions = [[{"role": "user", "content": m.content}] for m in trajectory.messages if m.role == "user"]
    truth = [[call.to_bfcl() for call in turn] for turn in turn_calls(trajectory.messages)]
    return {
        "id": trajectory.trajectory_id,
        "question": questions,
        "function": [tool.get("function", tool) for tool in trajectory.tools],
        "ground_truth": truth,
    }


class BfclExport:
    """Writes each SFT row as it is handed over (`add`), into `bfcl/<category>.jsonl` in the order given."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._stack = ExitStack()
        self._files: dict[str, IO[str]] = {}
        (directory / "bfcl").mkdir(parents=True, exist_ok=True)

    def add(self, trajectory: Trajectory) -> None:
        category = str(trajectory.metadata.get("category"))
        if category not in self._files:
            self._files[category] = self._stack.enter_context(open(self.directory / f"bfcl/{category}.jsonl", "w", encoding="utf-8"))
        self._files[category].write(json.dumps(bfcl_record(trajectory), ensure_ascii=False) + "\n")

    def close(self) -> list[str]:
        """The files written, by name (relative to the version directory)."""
        self._stack.close()
        return [f"bfcl/{category}.jsonl" for category in sorted(self._files)]

    def __enter__(self) -> "BfclExport":
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
