"""Price of one call: the model's override prices if set, else litellm's bundled cost map.

Local and unknown models (a vLLM server, the fake server) have no entry in litellm's map; without an
override they cost 0 and are flagged `unpriced`, so totals never pretend to know a price they do not.
The map is read from the copy shipped with litellm (`LITELLM_LOCAL_MODEL_COST_MAP=True`), never fetched.
"""

from __future__ import annotations

from dataclasses import dataclass

from magnet_core.llm.litellm_loader import import_litellm
from magnet_core.llm.types import ModelConfig


@dataclass(frozen=True)
class CallCost:
    usd: float
    priced: bool
    source: str  # "override" | "litellm" | "unpriced"


class CostCalculator:
    """Remembers which model strings litellm cannot price, so the failed lookup is paid once per model."""

    def __init__(self) -> None:
        self._unpriced: set[str] = set()

    def cost(self, model: ModelConfig, prompt_tokens: int, completion_tokens: int) -> CallCost:
        if model.input_cost_per_mtok is not None or model.output_cost_per_mtok is not None:
            usd = (prompt_tokens * (model.input_cost_per_mtok or 0.0)
                   + completion_tokens * (model.output_cost_per_mtok or 0.0)) / 1_000_000
            return CallCost(usd, True, "override")
        if model.model in self._unpriced:
            return CallCost(0.0, False, "unpriced")
        try:
            prompt_usd, completion_usd = import_litellm().cost_per_token(
                model=model.model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        except Exception:  # noqa: BLE001 - litellm raises assorted errors for models missing from its map
            self._unpriced.add(model.model)
            return CallCost(0.0, False, "unpriced")
        return CallCost(float(prompt_usd) + float(completion_usd), True, "litellm")
