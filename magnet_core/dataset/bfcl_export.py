"""Optional export of the SFT rows in BFCL's textual form (`[f(a=1), g(b="x")]` per turn).

One JSON Lines file per category under `bfcl/`, shaped like BFCL's own files (`id`, `question` as
turns of user messages, `function`), with `ground_truth` as the call text of each turn.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

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


def export_bfcl(directory: Path, trajectories: list[Trajectory]) -> list[str]:
    by_category: dict[str, list[dict]] = defaultdict(list)
    for trajectory in trajectories:
        by_category[str(trajectory.metadata.get("category"))].append(bfcl_record(trajectory))
    (directory / "bfcl").mkdir(parents=True, exist_ok=True)
    names = []
    for category in sorted(by_category):
        name = f"bfcl/{category}.jsonl"
        lines = [json.dumps(record, ensure_ascii=False) for record in by_category[category]]
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        names.append(name)
    return names
