"""Mined negatives (the method's main source): sample a student on each turn, let the error judge label
it, and turn each labelled mistake into a misleading hint for a second sampling pass.

Model-backed only: the student is a configured model (e.g. the SFT model behind vLLM) and sees the plain
conversation, no hint. The judge is a model when one is configured for `error_judge` (re-asked when its
verdict is unusable), otherwise the offline judge that compares the student's calls with the reference
calls. As in the paper, the judged wrong calls become the hint of the negative sampler, which samples the
rejected turn on a fresh replay; with no negative-sampler model the rejected turn follows that hint with
template text, and the metadata says so.
"""

from __future__ import annotations

import random

from magnet_core.domain.trajectory import ChatMessage, PreferencePair, Reject
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.error_judge import Verdict, judge_offline, judge_request, parse_verdict
from magnet_core.roles.llm_role import OFFLINE, LLMClientLike, ReaskExhausted, complete_parsed, role_model_name
from magnet_core.roles.teacher import EXTRA_STEPS, TeacherOutputError, model_turn
from magnet_core.distill.replay import RoleRun, new_executor, run_turn, tools_at
from magnet_core.translate.models import TranslatedScenario
from magnet_core.verify.checks import leakage_problems

STAGE = "distill.mined"


async def mined_pairs(pool: FunctionPool, translated: TranslatedScenario, chosen_run: RoleRun, system: ChatMessage,
                      tools: list[dict], config, client: LLMClientLike, metadata: dict,
                      rng: random.Random) -> tuple[list[PreferencePair], list[Reject]]:
    """`config` is the stage's `DistillConfig` (student, judge and sampler models, limits)."""
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []
    turns = list(translated.turns)
    for k, turn in enumerate(turns):
        if len(pairs) >= config.mined_per_scenario:
            break
        item_id = f"{translated.scenario.scenario_id}-mined-{k}"
        prompt = [system, *[m for t in chosen_run.turns[:k] for m in t], chosen_run.turns[k][0]]
        offered = tools_at(pool, turns, k, tools)
        try:
            with new_executor(pool, translated) as executor:
                for earlier in turns[:k]:
                    await executor.aexecute_all(list(earlier.reference_calls))
                sampled = await model_turn("student", None, prompt, offered, executor, k, client, config.student,
                                           max_steps=len(turn.reference_calls) + EXTRA_STEPS, max_reasks=config.max_reasks)
        except TeacherOutputError as error:
            rejects.append(Reject(stage=STAGE, item_id=item_id, reason="student_unusable", detail=str(error)))
            continue
        made = [call.function for message in sampled.messages for call in message.tool_calls]
        closing = sampled.messages[-1].content or ""
        try:
            verdict = await _judge(turn, made, closing, turns[:k], sampled, config, client)
        except ReaskExhausted as error:
            rejects.append(Reject(stage=STAGE, item_id=item_id, reason="judge_unusable", detail=str(error)))
            continue
        if verdict.error_type == 0:
            continue
        try:
            with new_executor(pool, translated) as executor:  # second pass: the wrong calls as a misleading hint
                for earlier in turns[:k]:
                    await executor.aexecute_all(list(earlier.reference_calls))
                outcome = await run_turn("negative_sampler", pool, turn, made, prompt, offered, executor, rng,
                                         config.models.negative_sampler, client, max_reasks=config.max_reasks)
        except TeacherOutputError as error:
            rejects.append(Reject(stage=STAGE, item_id=item_id, reason="negative_sampler_unusable", detail=str(error)))
            continue
        chosen = tuple(chosen_run.turns[k][1:])
        if [m.model_dump() for m in outcome.messages] == [m.model_dump() for m in chosen]:
            rejects.append(Reject(stage=STAGE, item_id=item_id, reason="rejected_equals_chosen", detail=verdict.reason))
            continue
        leaks = leakage_problems(outcome.messages)
        if leaks:
            rejects.append(Reject(stage=STAGE, item_id=item_id, reason="hint_leakage", detail=leaks[0].detail))
            continue
        pairs.append(_pair(item_id, translated, prompt, chosen, outcome, tools, k, verdict, sampled, config, metadata))
    return pairs, rejects


def _pair(item_id, translated, prompt, chosen, outcome, tools, k, verdict: Verdict, sampled, config, metadata):
    sampler = role_model_name(config.models.negative_sampler)
    models = {**metadata["models"], "student": config.student.model,
              "error_judge": role_model_name(config.models.error_judge), "negative_sampler": sampler}
    extra = {"template_text": [*metadata.get("template_text", []), "rejected"]} if sampler == OFFLINE else {}
    return PreferencePair(
        pair_id=item_id, prompt=tuple(prompt), chosen=chosen, rejected=tuple(outcome.messages),
        tools=tuple(tools), differing_turn=k, error_type=verdict.name, reason=verdict.reason,
        scenario_id=translated.scenario.scenario_id,
        metadata={**metadata, "negative_source": "mined", "offline": False, "models": models,
                  "judge_error_type": verdict.error_type, "judge_reason": verdict.reason,
                  "rejected_cost_usd": round(sampled.cost_usd + outcome.cost_usd, 8), **extra})


async def _judge(turn, made, closing, earlier_turns, outcome, config, client) -> Verdict:
    if config.models.error_judge is not None:
        request = judge_request(list(turn.reference_calls), made, closing)
        verdict, _ = await complete_parsed(client, config.models.error_judge, request, parse_verdict, config.max_reasks,
                                           "error judge")
        return verdict
    earlier = [r.output for t in earlier_turns for r in t.results]
    return judge_offline(turn.label, list(turn.reference_calls), made, [r.output for r in outcome.results], earlier)
