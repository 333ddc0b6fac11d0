"""Mined negatives (the method's main source): sample a student on each turn, let the error judge label
it, and keep labelled mistakes as rejected turns against the verified chosen ones.

Model-backed only: the student is a configured model (e.g. the SFT model behind vLLM) and sees the plain
conversation, no hint. The judge is a model when one is configured for `error_judge`, otherwise the
offline judge that compares the student's calls with the reference calls.
"""

from __future__ import annotations

from magnet_core.domain.trajectory import ChatMessage, PreferencePair, Reject
from magnet_core.llm.types import ModelConfig
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.error_judge import Verdict, judge_offline, judge_request, parse_verdict
from magnet_core.roles.llm_role import LLMClientLike
from magnet_core.roles.teacher import TeacherOutputError, model_turn
from magnet_core.distill.replay import RoleRun, new_executor, tools_at
from magnet_core.translate.models import TranslatedScenario
from magnet_core.verify.checks import leakage_problems

STAGE = "distill.mined"


async def mined_pairs(pool: FunctionPool, translated: TranslatedScenario, chosen_run: RoleRun, system: ChatMessage,
                      tools: list[dict], student: ModelConfig, judge: ModelConfig | None, client: LLMClientLike,
                      metadata: dict, limit: int) -> tuple[list[PreferencePair], list[Reject]]:
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []
    turns = list(translated.turns)
    for k, turn in enumerate(turns):
        if len(pairs) >= limit:
            break
        item_id = f"{translated.scenario.scenario_id}-mined-{k}"
        prompt = [system, *[m for t in chosen_run.turns[:k] for m in t], chosen_run.turns[k][0]]
        with new_executor(pool, translated) as executor:
            for earlier in turns[:k]:
                executor.execute_all(list(earlier.reference_calls))
            try:
                outcome = await model_turn("student", None, prompt, tools_at(pool, turns, k, tools), executor, k, client,
                                           student)
            except TeacherOutputError as error:
                rejects.append(Reject(stage=STAGE, item_id=item_id, reason="student_unusable", detail=str(error)))
                continue
        made = [call.function for message in outcome.messages for call in message.tool_calls]
        closing = outcome.messages[-1].content or ""
        try:
            verdict = await _judge(turn, made, closing, turns[:k], outcome, judge, client)
        except ValueError as error:
            rejects.append(Reject(stage=STAGE, item_id=item_id, reason="judge_unparseable", detail=str(error)))
            continue
        if verdict.error_type == 0:
            continue
        leaks = leakage_problems(outcome.messages)
        if leaks:
            rejects.append(Reject(stage=STAGE, item_id=item_id, reason="hint_leakage", detail=leaks[0].detail))
            continue
        pairs.append(PreferencePair(
            pair_id=item_id, prompt=tuple(prompt), chosen=tuple(chosen_run.turns[k][1:]), rejected=tuple(outcome.messages),
            tools=tuple(tools), differing_turn=k, error_type=verdict.name, reason=verdict.reason,
            scenario_id=translated.scenario.scenario_id,
            metadata={**metadata, "negative_source": "mined", "offline": False,
                      "models": {**metadata["models"], "student": student.model},
                      "judge_error_type": verdict.error_type, "judge_reason": verdict.reason,
                      "rejected_cost_usd": outcome.cost_usd}))
    return pairs, rejects


async def _judge(turn, made, closing, earlier_turns, outcome, judge: ModelConfig | None, client) -> Verdict:
    if judge is not None:
        response = await client.complete(judge_request(list(turn.reference_calls), made, closing), judge)
        return parse_verdict(response)
    earlier = [r.output for t in earlier_turns for r in t.results]
    return judge_offline(turn.label, list(turn.reference_calls), made, [r.output for r in outcome.results], earlier)
