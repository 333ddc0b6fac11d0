"""Spend read back from the ledger parts the orchestration writes: per run, and summed across runs.

Each run keeps its call records as Parquet parts under `<workdir>/runs/<run id>/ledger/`; this module
only reads them (pandas), so `magnet costs` and the flow's artifacts show the same numbers.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from magnet_core.llm.ledger import CallRecord

LEDGER_COLUMNS = tuple(CallRecord.__dataclass_fields__)


def read_ledger(ledger_dir: Path):
    """Every part of one run's ledger as one frame (empty frame with the record columns when none)."""
    import pandas as pd

    from magnet_core.llm.ledger import consolidate

    consolidate(ledger_dir)  # journals of killed shards become parts: their spending is reported too
    parts = sorted(Path(ledger_dir).glob("*.parquet"))
    if not parts:
        return pd.DataFrame({column: [] for column in LEDGER_COLUMNS})
    return pd.concat([pd.read_parquet(part) for part in parts], ignore_index=True)


def spend_by_run(workdir: Path) -> list[dict[str, Any]]:
    """One row per run that made LLM calls, oldest first, with the running total across runs."""
    rows = []
    for ledger_dir in Path(workdir).glob("runs/*/ledger"):
        frame = read_ledger(ledger_dir)
        parts = list(ledger_dir.glob("*.parquet"))
        if not parts:
            continue
        last = max(part.stat().st_mtime for part in parts)
        rows.append({
            "run": ledger_dir.parent.name,
            "last_call_utc": datetime.fromtimestamp(last, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "calls": int(len(frame)),
            "failed_calls": int((frame["status"] == "failed").sum()),
            "cached_calls": int(frame["cached"].sum()),
            "tokens": int(frame["prompt_tokens"].sum() + frame["completion_tokens"].sum()),
            "cost_usd": round(float(frame["cost_usd"].sum()), 6),
            "_order": last,
        })
    rows.sort(key=lambda row: (row.pop("_order"), row["run"]))
    total = 0.0
    for row in rows:
        total += row["cost_usd"]
        row["cumulative_usd"] = round(total, 6)
    return rows
