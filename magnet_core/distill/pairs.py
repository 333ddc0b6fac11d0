"""Preference pairs: the chosen turn from the positive trajectory against a turn misled by a wrong hint.

The prompt is the positive trajectory up to the user message of the differing turn; chosen and rejected
are that turn's assistant/tool messages. The rejected side runs on a fresh session replayed to the same
point (the earlier reference calls), so its tool outputs are the real consequences of its wrong calls.
Type 4 (wrong summary) is always built from templates (the real calls, a misstated summary); its
metadata says so (`models.negative_sampler = "template"`, `template_text`), never that a model wrote it.
"""

from __future__ import annotations

import random

from magnet_core.domain.trajectory import ChatMessage, PreferencePair, Reject
from magnet_core.pools.base import FunctionPool
from magnet_core.roles.error_judge import judge_offline
from magnet_core.roles.llm_role import DEFAULT_MAX_REASKS, OFFLINE, LLMClientLike
from magnet_core.roles.teacher import TeacherOutputError, offline_turn, summary_text
from magnet_core.distill.perturb import Perturbation, misstate
from magnet_core.distill.replay import RoleRun, new_executor, run_turn, tools_at
from magnet_core.translate.models import TranslatedScenario
from magnet_core.verify.checks import leakage_problems

STAGE = "distill.pairs"
TEMPLATE = "template"  # provenance of text written by our templates, never by a model


async def build_pair(pool: FunctionPool, translated: TranslatedScenario, chosen_run: RoleRun, system: ChatMessage,
                     tools: list[dict], perturbation: Perturbation, rng: random.Random, model, client: LLMClientLike | None,
                     metadata: dict, max_reasks: int = DEFAULT_MAX_REASKS) -> PreferencePair | Reject:
    k = perturbation.turn_index
    pair_id = f"{translated.scenario.scenario_id}-pair-{perturbation.error_name}"
    turns = list(translated.turns)
    prompt = [system, *[m for turn in chosen_run.turns[:k] for m in turn], chosen_run.turns[k][0]]
    chosen = chosen_run.turns[k][1:]
    with new_executor(pool, translated) as executor:
        for turn in turns[:k]:
            await executor.aexecute_all(list(turn.reference_calls))
        try:
            if perturbation.error_type == 4:
                outcome = offline_turn(list(perturbation.hint), executor, k,
                                       lambda results: summary_text([r.model_copy(update={"output": misstate(r.output, rng)})
                                                                     for r in results], random.Random(rng.random())))
            else:
                outcome = await run_turn("negative_sampler", pool, turns[k], list(perturbation.hint), prompt,
                                         tools_at(pool, turns, k, tools), executor, rng, model, client,
                                         max_reasks=max_reasks)
        except TeacherOutputError as error:
            return Reject(stage=STAGE, item_id=pair_id, reason="negative_sampler_unusable", detail=str(error))
    rejected = outcome.messages
    if [m.model_dump() for m in rejected] == [m.model_dump() for m in chosen]:
        return Reject(stage=STAGE, item_id=pair_id, reason="rejected_equals_chosen", detail=perturbation.reason)
    leaks = leakage_problems(rejected)
    if leaks:
        return Reject(stage=STAGE, item_id=pair_id, reason="hint_leakage", detail=leaks[0].detail)
    made = [call.function for message in rejected for call in message.tool_calls]
    earlier = [r.output for turn in turns[:k] for r in turn.results]
    verdict = judge_offline(turns[k].label, list(turns[k].reference_calls), made,
                            [r.output for r in outcome.results], earlier, summary_ok=perturbation.error_type != 4)
    provenance = {"negative_source": "synthetic", "judge_error_type": verdict.error_type, "judge_reason": verdict.reason,
                  "rejected_cost_usd": outcome.cost_usd}
    if perturbation.error_type == 4 or model is None:
        # the rejected side is template text (type 4 always: a misstated summary of the real outputs)
        provenance["models"] = {**metadata["models"], "negative_sampler": TEMPLATE if model is not None else OFFLINE}
        provenance["template_text"] = [*metadata.get("template_text", []), "rejected"]
    return PreferencePair(
        pair_id=pair_id, prompt=tuple(prompt), chosen=tuple(chosen), rejected=tuple(rejected), tools=tuple(tools),
        differing_turn=k, error_type=perturbation.error_name, reason=perturbation.reason,
        scenario_id=translated.scenario.scenario_id,
        metadata={**metadata, **provenance},
    )
