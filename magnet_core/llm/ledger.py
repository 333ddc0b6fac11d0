"""The per-call ledger: one frozen record per `complete()` call, and the totals derived from it.

Totals are computed from the records rather than kept as separate counters, so the numbers a run
reports and the Parquet file the orchestration stores can never disagree. Records hold the cache key
and the model string, never messages, API keys or endpoints.

Money is spent when a call finishes, not when a shard does: a ledger with a `journal` appends each
record to a JSON-lines file as it is made (flushed per record, so a SIGKILL loses none). At the end of
a shard the records become one Parquet part with the journal's stem and the journal goes; a journal
left by a killed process is read as it is and turned into its Parquet part by `consolidate`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

CALL_STATUSES = ("ok", "cached", "failed", "refused")


@dataclass(frozen=True)
class CallRecord:
    role: str
    stage: str
    model: str
    cache_key: str
    cached: bool
    status: str  # one of CALL_STATUSES: "refused" = budget cap or open circuit, no HTTP made
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True
    latency_s: float = 0.0  # wall time of the call: admission waits, every attempt and backoff
    retries: int = 0
    error: str = ""  # already scrubbed of API keys


@dataclass
class Usage:
    calls: int = 0
    cached_calls: int = 0
    failed_calls: int = 0
    refused_calls: int = 0
    unpriced_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0

    def add(self, record: CallRecord) -> None:
        self.calls += 1
        self.cached_calls += record.cached
        self.failed_calls += record.status == "failed"
        self.refused_calls += record.status == "refused"
        self.unpriced_calls += record.status == "ok" and not record.priced
        self.prompt_tokens += record.prompt_tokens
        self.completion_tokens += record.completion_tokens
        self.cost_usd += record.cost_usd
        self.retries += record.retries


@dataclass
class Totals:
    run: Usage = field(default_factory=Usage)
    by_role: dict[str, Usage] = field(default_factory=dict)
    by_stage: dict[str, Usage] = field(default_factory=dict)
    by_model: dict[str, Usage] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


class Ledger:
    def __init__(self, journal: Path | None = None) -> None:
        self.records: list[CallRecord] = []
        self.journal = Path(journal) if journal is not None else None
        self._file = None
        self._lock = threading.Lock()

    def append(self, record: CallRecord) -> None:
        with self._lock:
            self.records.append(record)
            if self.journal is not None:
                if self._file is None:  # opened on the first record: a shard without calls leaves no file
                    self.journal.parent.mkdir(parents=True, exist_ok=True)
                    self._file = self.journal.open("a", encoding="utf-8")
                self._file.write(json.dumps(asdict(record), sort_keys=True) + "\n")
                self._file.flush()  # in the kernel now: a killed process loses nothing

    def close_journal(self, part: Path | None = None) -> Path | None:
        """Write the records as the Parquet `part` (default: the journal's stem) and drop the journal."""
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
            if not self.records:
                return None
            target = Path(part) if part is not None else self.journal.with_suffix(".parquet")
            temporary = target.with_suffix(".tmp")
            self.write_parquet(temporary)
            temporary.replace(target)
            if self.journal is not None:
                self.journal.unlink(missing_ok=True)  # after the part exists: a crash in between keeps both, read once
            return target

    def totals(self) -> Totals:
        totals = Totals()
        for record in self.records:
            totals.run.add(record)
            totals.by_role.setdefault(record.role, Usage()).add(record)
            totals.by_stage.setdefault(record.stage, Usage()).add(record)
            totals.by_model.setdefault(record.model, Usage()).add(record)
        return totals

    def write_parquet(self, path: Path) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = list(CallRecord.__dataclass_fields__)
        columns = {name: [getattr(r, name) for r in self.records] for name in names}
        schema = pa.schema([(name, _arrow_type(CallRecord.__dataclass_fields__[name].type)) for name in names])
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(columns, schema=schema), path)
        return path


def _arrow_type(annotation: object):
    import pyarrow as pa

    return {"str": pa.string(), "bool": pa.bool_(), "int": pa.int64(), "float": pa.float64()}[str(annotation)]


def journal_records(path: Path) -> list[CallRecord]:
    """The records of a journal; a last line cut short by a kill is skipped (that call never finished writing)."""
    records = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            records.append(CallRecord(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return records


def orphan_journals(ledger_dir: Path) -> list[Path]:
    """Journals whose Parquet part was never written (their process died)."""
    return sorted(p for p in Path(ledger_dir).glob("*.jsonl") if not p.with_suffix(".parquet").exists())


def consolidate(ledger_dir: Path) -> list[Path]:
    """Turn journals left by killed processes into Parquet parts; returns the parts written."""
    written = []
    for journal in orphan_journals(ledger_dir):
        ledger = Ledger()
        ledger.records = journal_records(journal)
        if ledger.records:
            ledger.journal = journal
            written.append(ledger.close_journal())
        else:
            journal.unlink(missing_ok=True)
    for journal in Path(ledger_dir).glob("*.jsonl"):  # part written, journal not yet removed
        journal.unlink(missing_ok=True)
    return written
