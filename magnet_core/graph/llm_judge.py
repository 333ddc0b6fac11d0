"""The LLM dependency judge (used when a teacher model is configured).

One request per source function carries all its candidates. The answer is untrusted text: it is parsed
and validated by `parse_judge_answer`, a pure function, so every way a model can get it wrong (prose
instead of JSON, invented names, self loops, fields the source does not return) is tested directly and
ends up as a Reject record instead of an edge.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import Reject
from magnet_core.graph.edges import DependencyEdge, DependencyKind, EdgeEvidence, make_edge
from magnet_core.llm.types import CircuitOpenError, LLMRequest, LLMRequestError, LLMTransientExhausted, ModelConfig
from magnet_core.prompts import load_prompt

ROLE = "dependency_judge"
STAGE = "graph"
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


class JudgeAnswerError(ValueError):
    """The answer as a whole is unusable (not JSON, wrong shape)."""


def describe_function(spec: FunctionSpec) -> dict[str, Any]:
    return {"name": spec.qualified_name, "description": spec.description, "parameters": spec.parameters, "result": spec.response or {}}


def build_judge_request(source: FunctionSpec, candidates: list[FunctionSpec], sample_index: int = 0) -> LLMRequest:
    prompt = load_prompt(ROLE)
    body = {"source": describe_function(source), "candidates": [describe_function(c) for c in candidates]}
    return LLMRequest(
        role=ROLE,
        stage=STAGE,
        messages=(
            {"role": "system", "content": prompt.render()},
            {"role": "user", "content": json.dumps(body, sort_keys=True)},
        ),
        params={"temperature": 0.0},
        prompt_version=prompt.cache_tag,
        sample_index=sample_index,
    )


def parse_judge_answer(text: str | None, source: FunctionSpec, candidates: list[FunctionSpec], judge_name: str) -> tuple[list[DependencyEdge], list[str]]:
    """Edges the answer supports, and one problem line per item it had to refuse.

    Raises JudgeAnswerError when the answer is not a JSON object with a "dependencies" list.
    """
    if not text or not text.strip():
        raise JudgeAnswerError("empty answer")
    fenced = _FENCE.match(text)
    try:
        payload = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError as error:
        raise JudgeAnswerError(f"answer is not JSON: {error.msg}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("dependencies"), list):
        raise JudgeAnswerError('answer must be an object with a "dependencies" list')
    by_name = {c.qualified_name: c for c in candidates}
    outputs = set(source.response_properties)
    edges: dict[str, DependencyEdge] = {}
    problems: list[str] = []
    for position, item in enumerate(payload["dependencies"]):
        where = f"dependencies[{position}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            continue
        target_name = item.get("target")
        if not isinstance(target_name, str):
            problems.append(f"{where}: target must be a string")
            continue
        if target_name == source.qualified_name:
            problems.append(f"{where}: self loop on {target_name}")
            continue
        target = by_name.get(target_name)
        if target is None:
            problems.append(f"{where}: {target_name!r} is not one of the candidates")
            continue
        kind = item.get("kind")
        if kind not in ("value", "premise"):
            problems.append(f"{where}: kind must be 'value' or 'premise', got {kind!r}")
            continue
        confidence = item.get("confidence", 0.9)
        if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            problems.append(f"{where}: confidence must be a number from 0 to 1")
            continue
        reason = item.get("reason", "")
        reason = reason[:300] if isinstance(reason, str) else ""
        evidence = _evidence(item.get("feeds", []), kind, outputs, set(target.param_properties), where, problems, reason)
        if evidence is None:
            continue
        if target_name in edges:
            problems.append(f"{where}: {target_name} listed twice; the first is kept")
            continue
        edges[target_name] = make_edge(source.qualified_name, target_name, evidence, float(confidence), judge_name)
    return list(edges.values()), problems


def _evidence(feeds: Any, kind: str, outputs: set[str], params: set[str], where: str, problems: list[str], reason: str) -> list[EdgeEvidence] | None:
    if not isinstance(feeds, list):
        problems.append(f"{where}: feeds must be a list")
        return None
    if kind == "premise":
        return [EdgeEvidence(kind=DependencyKind.PREMISE, note=reason)]
    evidence = []
    for feed in feeds:
        field = feed.get("output_field") if isinstance(feed, dict) else None
        param = feed.get("parameter") if isinstance(feed, dict) else None
        if not isinstance(field, str) or not isinstance(param, str):
            problems.append(f"{where}: each feed names an output_field and a parameter as strings")
            return None
        if field not in outputs:
            problems.append(f"{where}: the source returns no field {field!r}")
            return None
        if param not in params:
            problems.append(f"{where}: the target has no parameter {param!r}")
            return None
        evidence.append(EdgeEvidence(kind=DependencyKind.VALUE, output_field=field, parameter=param, partial=True, note=reason))
    if not evidence:
        problems.append(f"{where}: a value dependency names at least one feed")
        return None
    return evidence


class LLMDependencyJudge:
    """Judges with a teacher model through the shared LLM client (`await client.complete`)."""

    offline = False

    def __init__(self, client: Any, model: ModelConfig, sample_index: int = 0):
        self.client = client
        self.model = model
        self.sample_index = sample_index
        self.name = f"llm:{model.model}"
        self.rejects: list[Reject] = []

    async def ajudge_with_rejects(self, target: FunctionSpec, candidates: list[FunctionSpec]) -> tuple[list[DependencyEdge], list[Reject]]:
        request = build_judge_request(target, candidates, self.sample_index)
        item = target.qualified_name
        try:
            response = await self.client.complete(request, self.model)
        except (LLMRequestError, LLMTransientExhausted, CircuitOpenError) as error:  # setup errors/budget stop the run
            return [], [Reject(stage=STAGE, item_id=item, reason="llm_error", detail=f"{type(error).__name__}: {error}")]
        try:
            edges, problems = parse_judge_answer(response.content, target, candidates, self.name)
        except JudgeAnswerError as error:
            return [], [Reject(stage=STAGE, item_id=item, reason="judge_answer_invalid", detail=str(error), payload={"answer": (response.content or "")[:2000]})]
        rejects = [Reject(stage=STAGE, item_id=item, reason="judge_item_invalid", detail=problem) for problem in problems]
        return edges, rejects

    async def ajudge(self, target: FunctionSpec, candidates: list[FunctionSpec]) -> list[DependencyEdge]:
        edges, rejects = await self.ajudge_with_rejects(target, candidates)
        self.rejects.extend(rejects)
        return edges

    def judge(self, target: FunctionSpec, candidates: list[FunctionSpec]) -> list[DependencyEdge]:
        return asyncio.run(self.ajudge(target, candidates))

    async def ajudge_many(self, jobs: list[tuple[FunctionSpec, list[FunctionSpec]]]) -> tuple[list[DependencyEdge], list[Reject]]:
        results = await asyncio.gather(*(self.ajudge_with_rejects(target, candidates) for target, candidates in jobs if candidates))
        edges = [edge for found, _ in results for edge in found]
        rejects = [reject for _, found in results for reject in found]
        return edges, rejects
