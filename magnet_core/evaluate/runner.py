"""`run_evaluation`: BFCL multi-turn categories against one model, resumable, with a report.

Cases run concurrently (bounded by `concurrency`; the LLM client's admission bounds requests per
model on top). Each case is an episode (`run_episode`) followed by a verdict (`check_case`); its record
is written as soon as it exists, so stopping at any point and rerunning the same config only runs the
cases without a record, and their already-answered steps come from the LLM cache.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from magnet_core.evaluate.backends import LLMBackend, LocalTransformersBackend
from magnet_core.evaluate.bfcl_data import EvalCase, SingleTurnCase, sample_cases, sample_single_turn
from magnet_core.evaluate.checker import check_case
from magnet_core.evaluate.config import CategoryScore, EvalConfig, EvalResult
from magnet_core.evaluate.episode import ModelBackend, run_episode
from magnet_core.evaluate.ground_truth import parse_ground_truth_turns
from magnet_core.evaluate.records import INFERENCE_ERROR, CaseRecord, CaseStore, write_case_table
from magnet_core.evaluate.report import write_chart, write_report
from magnet_core.evaluate.single_turn import run_single_turn
from magnet_core.evaluate.summary import bfcl_v3_summary
from magnet_core.llm.client import LLMClient
from magnet_core.llm.types import BudgetExceededError, LLMError
from magnet_core.pools import load_pool
from magnet_core.prompts import load_prompt


def run_evaluation(config: EvalConfig, client: LLMClient | None = None) -> EvalResult:
    """Synchronous entry point (CLI, Prefect tasks); must not be called inside a running event loop."""
    return asyncio.run(evaluate(config, client))


async def evaluate(config: EvalConfig, client: LLMClient | None = None) -> EvalResult:
    started = time.perf_counter()
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    prompt = load_prompt(config.system_prompt_role)
    run_key = config.run_key(prompt.cache_tag)
    specs = list(load_pool("bfcl").specs)
    cases = [case for category in config.multi_turn_categories for case in sample_cases(category, config.sample_size, config.seed)]
    cases += [case for category in config.single_turn_categories for case in sample_single_turn(category, config.sample_size, config.seed)]
    store = CaseStore(output_dir)
    records: dict[str, CaseRecord] = {}
    pending: list[EvalCase] = []
    for case in cases:
        stored = store.load(case.case_id, run_key)
        if stored is not None:
            records[case.case_id] = stored
        else:
            pending.append(case)
    backend = _backend(config, client, prompt.cache_tag)
    runner = _CaseRunner(config, backend, specs, prompt.text, run_key, store)
    for record in await runner.run_all(pending):
        records[record.case_id] = record
    ordered = [records[case.case_id] for case in cases if case.case_id in records]
    return _finish(config, ordered, len(cases) - len(ordered), output_dir, time.perf_counter() - started)


def _backend(config: EvalConfig, client: LLMClient | None, prompt_tag: str) -> ModelBackend:
    if config.model is not None:
        client = client or LLMClient(cache_dir=config.resolved_cache_dir, max_cost_usd=config.max_cost_usd)
        params = {"temperature": config.temperature, "max_tokens": config.max_tokens}
        return LLMBackend(client, config.model, prompt_tag, params)
    return LocalTransformersBackend(Path(config.local_model_path), config.local_max_new_tokens)


class _CaseRunner:
    def __init__(self, config: EvalConfig, backend: ModelBackend, specs: list, system_prompt: str, run_key: str, store: CaseStore):
        self.config, self.backend, self.specs = config, backend, specs
        self.by_name = {spec.name: spec for spec in specs}
        self.system_prompt, self.run_key, self.store = system_prompt, run_key, store
        self.finished = 0
        self.stopped: str | None = None

    async def run_all(self, cases: list[EvalCase]) -> list[CaseRecord]:
        gate = asyncio.Semaphore(self.config.concurrency)

        async def guarded(case: EvalCase) -> CaseRecord | None:
            async with gate:
                if self.stopped:
                    return None
                return await self.run_case(case)

        results = await asyncio.gather(*(guarded(case) for case in cases))
        return [record for record in results if record is not None]

    async def run_case(self, case: EvalCase | SingleTurnCase) -> CaseRecord | None:
        started = time.perf_counter()
        if isinstance(case, SingleTurnCase):
            return await self.run_single(case, started)
        try:
            episode = await run_episode(
                case, self.backend, self.specs, self.system_prompt, self.config.max_steps_per_turn, self.config.text_call_format
            )
        except BudgetExceededError as error:
            self.stopped = str(error)
            return None
        except LLMError as error:
            return self._record(case, started, valid=False, error_type=INFERENCE_ERROR, error_message=str(error))
        truth = parse_ground_truth_turns(case.ground_truth, self.by_name)
        verdict = await asyncio.to_thread(
            check_case, case, episode.model_calls(), truth, self.specs, check_ask_turns=self.config.check_ask_turns
        )
        return self._finished(self._record(case, started, episode=episode, **verdict.model_dump()))

    async def run_single(self, case: SingleTurnCase, started: float) -> CaseRecord | None:
        try:
            verdict, episode = await run_single_turn(case, self.backend, self.system_prompt, self.config.text_call_format)
        except BudgetExceededError as error:
            self.stopped = str(error)
            return None
        except LLMError as error:
            return self._record(case, started, valid=False, error_type=INFERENCE_ERROR, error_message=str(error))
        return self._finished(self._record(case, started, episode=episode, valid=verdict.valid, error_type=verdict.error_type,
                                           error_message=verdict.error_message, details=verdict.decoded))

    def _finished(self, record: CaseRecord) -> CaseRecord:
        self.store.save(record)
        self.finished += 1
        if self.config.max_new_cases is not None and self.finished >= self.config.max_new_cases:
            self.stopped = f"stopped after {self.finished} new case(s) (max_new_cases)"
        return record

    def _record(self, case: EvalCase | SingleTurnCase, started: float, **fields) -> CaseRecord:
        return CaseRecord(case_id=case.case_id, category=case.category, run_key=self.run_key, model=self.config.model_label,
                          wall_s=time.perf_counter() - started, **fields)


def _finish(config: EvalConfig, records: list[CaseRecord], unfinished: int, output_dir: Path, wall: float) -> EvalResult:
    scores = tuple(
        CategoryScore(
            category=category,
            cases=sum(1 for r in records if r.category == category),
            correct=sum(1 for r in records if r.category == category and r.valid),
            strict_correct=sum(1 for r in records if r.category == category and r.strict_valid),
        )
        for category in config.categories
    )
    summary = bfcl_v3_summary({score.category: score.accuracy for score in scores})
    if config.single_turn_categories:
        overall = summary["overall"]
    else:
        overall = sum(score.accuracy for score in scores) / len(scores)
    episodes = [r.episode for r in records if r.episode is not None]
    cost = sum(e.usage.cost_usd for e in episodes)
    table = write_case_table(records, output_dir / "cases.parquet")
    chart = write_chart(output_dir / "accuracy.png", config.model_label, scores, summary["multi_turn"] if config.single_turn_categories else overall)
    report = write_report(output_dir / "report.md", config, scores, overall, records, chart, cost, wall, unfinished, summary)
    return EvalResult(
        label=config.model_label,
        scores=scores,
        overall=overall,
        summary=summary,
        complete=unfinished == 0 and all(r.persisted for r in records),
        unfinished=unfinished,
        cases_parquet=table,
        report_md=report,
        chart_png=chart,
        cost_usd=cost,
        wall_time_s=wall,
        requests=sum(e.usage.requests for e in episodes),
        cached_requests=sum(e.usage.cached_requests for e in episodes),
    )
