"""The optional leak judge over what distill stores: a positive trajectory, and the rejected side of a pair.

It runs after every cheap check has passed (no call is spent on a sample that fails anyway). A judged
leak is a reject named `hint_leakage_judged` whose detail is the verdict (model, message, quoted words,
reason), beside the pattern model's `hint_leakage`, so a run's reject counts show what the judge added.
An unusable verdict after the re-asks is `leak_judge_unusable`; a failed call is `llm_error`, as for any
role. The judge's spend is added to the sample's accounting field.
"""

from __future__ import annotations

from collections.abc import Sequence

from magnet_core.domain.trajectory import ChatMessage, PreferencePair, Reject
from magnet_core.llm.types import ModelConfig
from magnet_core.roles.leak_judge import judge_leaks
from magnet_core.roles.llm_role import ITEM_LLM_ERRORS, LLMClientLike, ReaskExhausted

JUDGED_LEAK = "hint_leakage_judged"


async def judged_leak(messages: Sequence[ChatMessage], item_id: str, stage: str, model: ModelConfig | None,
                      client: LLMClientLike | None, max_reasks: int,
                      payload: dict | None = None) -> tuple[Reject | None, float]:
    """(the reject when the judge finds a leak or cannot judge, else None; the judge's cost)."""
    if model is None or client is None:
        return None, 0.0
    try:
        verdict, cost = await judge_leaks(messages, client, model, max_reasks)
    except ReaskExhausted as error:
        return Reject(stage=stage, item_id=item_id, reason="leak_judge_unusable", detail=str(error)), error.cost_usd
    except ITEM_LLM_ERRORS as error:
        return Reject(stage=stage, item_id=item_id, reason="llm_error", detail=f"leak judge: {type(error).__name__}: {error}"), 0.0
    if verdict is None or not verdict.leak:
        return None, cost
    return Reject(stage=stage, item_id=item_id, reason=JUDGED_LEAK, detail=verdict.detail(model.model),
                  payload=payload or {}), cost


async def judged_pairs(pairs: list[PreferencePair], model: ModelConfig | None, client: LLMClientLike | None,
                       max_reasks: int) -> tuple[list[PreferencePair], list[Reject]]:
    """Pairs whose rejected side the judge passes (its cost added to `rejected_cost_usd`), and rejects."""
    kept: list[PreferencePair] = []
    rejects: list[Reject] = []
    for pair in pairs:
        if "rejected" in pair.metadata.get("template_text", ()):  # our template wrote it: nothing to judge
            kept.append(pair)
            continue
        stage = "distill.mined" if pair.metadata.get("negative_source") == "mined" else "distill.pairs"
        refused, cost = await judged_leak(pair.rejected, pair.pair_id, stage, model, client, max_reasks,
                                          {"rejected": [message.to_openai() for message in pair.rejected]})
        if refused is not None:
            rejects.append(refused)
            continue
        if cost:
            spent = round(float(pair.metadata.get("rejected_cost_usd", 0.0)) + cost, 8)
            pair = pair.model_copy(update={"metadata": {**pair.metadata, "rejected_cost_usd": spent}})
        kept.append(pair)
    return kept, rejects
