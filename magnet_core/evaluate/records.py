"""Per-case results: one JSON file per finished case (the resume point) and the Parquet table.

A case is written the moment its verdict exists, atomically (temp file + rename), so an interrupted
run loses at most the cases in flight; a rerun with the same settings (`run_key`) skips every case
that has a record. Cases that failed to run (the model endpoint kept failing) are reported but not
written, so the rerun retries them.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict

from magnet_core.evaluate.episode import Episode

INFERENCE_ERROR = "multi_turn:inference_error"


class CaseRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    category: str
    run_key: str
    model: str
    valid: bool
    error_type: str = ""
    error_message: str = ""
    failing_turn: int | None = None
    details: str = ""
    schema_violations: int = 0
    episode: Episode | None = None
    wall_s: float = 0.0

    @property
    def strict_valid(self) -> bool:
        """Passed, and every model call kept to its function's parameter schema."""
        return self.valid and self.schema_violations == 0

    @property
    def persisted(self) -> bool:
        return self.error_type != INFERENCE_ERROR


class CaseStore:
    def __init__(self, root: Path):
        self.root = Path(root) / "cases"
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, case_id: str) -> Path:
        return self.root / f"{case_id}.json"

    def load(self, case_id: str, run_key: str) -> CaseRecord | None:
        path = self.path(case_id)
        if not path.exists():
            return None
        record = CaseRecord.model_validate_json(path.read_text(encoding="utf-8"))
        return record if record.run_key == run_key else None

    def save(self, record: CaseRecord) -> None:
        if not record.persisted:
            return
        handle, temp = tempfile.mkstemp(dir=self.root, prefix=f".{record.case_id}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(record.model_dump_json())
        os.replace(temp, self.path(record.case_id))


def write_case_table(records: list[CaseRecord], path: Path) -> Path:
    """One row per case. Episodes and checker details are JSON text; `failing_turn` is null for passes."""
    rows = []
    for record in records:
        episode = record.episode
        usage = episode.usage if episode is not None else None
        rows.append(
            {
                "case_id": record.case_id,
                "category": record.category,
                "model": record.model,
                "valid": record.valid,
                "error_type": record.error_type,
                "error_message": record.error_message,
                "failing_turn": record.failing_turn,
                "details": record.details,
                "schema_violations": record.schema_violations,
                "turns": len(episode.turns) if episode else 0,
                "steps": sum(len(turn.steps) for turn in episode.turns) if episode else 0,
                "calls": sum(len(step.calls) for turn in episode.turns for step in turn.steps) if episode else 0,
                "parse_errors": sum(1 for turn in episode.turns for step in turn.steps if step.parse_error) if episode else 0,
                "force_terminated": bool(episode and episode.force_terminated),
                "requests": usage.requests if usage else 0,
                "cached_requests": usage.cached_requests if usage else 0,
                "prompt_tokens": usage.prompt_tokens if usage else 0,
                "completion_tokens": usage.completion_tokens if usage else 0,
                "cost_usd": usage.cost_usd if usage else 0.0,
                "wall_s": record.wall_s,
                "episode": json.dumps(episode.model_dump(mode="json"), ensure_ascii=False) if episode else "",
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame["failing_turn"] = frame["failing_turn"].astype("Int64")
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(path, index=False)
    return path
