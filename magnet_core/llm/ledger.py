"""The per-call ledger: one frozen record per `complete()` call, and the totals derived from it.

Totals are computed from the records rather than kept as separate counters, so the numbers a run
reports and the Parquet file the orchestration stores can never disagree. Records hold the cache key
and the model string, never messages, API keys or endpoints.
"""

from __future__ import annotations

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
    def __init__(self) -> None:
        self.records: list[CallRecord] = []

    def append(self, record: CallRecord) -> None:
        self.records.append(record)

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
