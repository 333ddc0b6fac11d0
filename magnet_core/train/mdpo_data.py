"""Tokenising preference pairs as whole trajectories with per-token assistant masks, and batching them.

TRL's DPO data path treats `chosen` as one contiguous completion after the prompt. A multi-turn pair is
not that: the rejected branch contains tool outputs and possibly further user turns, and the method's
M-DPO sums log-ratios over *every assistant token of the whole trajectory* (shared history included),
with user text and tool outputs as context only. So each side is rendered in full through the chat
template and its mask comes from the template's `{% generation %}` markers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import torch
from transformers.data.data_collator import DataCollatorMixin

TOKENIZED_COLUMNS = ("chosen_input_ids", "chosen_assistant_mask", "rejected_input_ids", "rejected_assistant_mask")


def tokenize_trajectory(tokenizer, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None):
    """(input_ids, assistant_mask) of a full conversation rendered by the tokenizer's chat template."""
    rendered = tokenizer.apply_chat_template(
        messages,
        tools=tools or None,
        tokenize=True,
        return_dict=True,
        return_assistant_tokens_mask=True,
    )
    input_ids = list(rendered["input_ids"])
    mask = list(rendered["assistant_masks"])
    if 1 not in mask:
        raise ValueError("trajectory has no assistant tokens: the chat template needs {% generation %} markers")
    return input_ids, mask


def tokenize_pair(example: dict[str, Any], tokenizer) -> dict[str, list[int]]:
    tools = example.get("tools")
    tools = json.loads(tools) if isinstance(tools, str) else tools
    prompt = list(example["prompt"])
    chosen_ids, chosen_mask = tokenize_trajectory(tokenizer, prompt + list(example["chosen"]), tools)
    rejected_ids, rejected_mask = tokenize_trajectory(tokenizer, prompt + list(example["rejected"]), tools)
    return {
        "chosen_input_ids": chosen_ids,
        "chosen_assistant_mask": chosen_mask,
        "rejected_input_ids": rejected_ids,
        "rejected_assistant_mask": rejected_mask,
    }


def _pad(rows: list[list[int]], value: int, width: int) -> torch.Tensor:
    return torch.tensor([row + [value] * (width - len(row)) for row in rows], dtype=torch.long)


@dataclass
class MultiTurnPreferenceCollator(DataCollatorMixin):
    """Batch layout of TRL's DPOTrainer (chosen rows, then rejected rows) with assistant masks as
    `completion_mask`, so the parent's loss and metrics read the multi-turn mask unchanged."""

    pad_token_id: int
    max_length: int | None = None
    return_tensors: str = "pt"

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        ids = [e["chosen_input_ids"] for e in examples] + [e["rejected_input_ids"] for e in examples]
        masks = [e["chosen_assistant_mask"] for e in examples] + [e["rejected_assistant_mask"] for e in examples]
        if self.max_length is not None:  # keep_start: the system/tools header and the first turns survive
            ids = [row[: self.max_length] for row in ids]
            masks = [row[: self.max_length] for row in masks]
        width = max(len(row) for row in ids)
        return {
            "input_ids": _pad(ids, self.pad_token_id, width),
            "attention_mask": _pad([[1] * len(row) for row in ids], 0, width),
            "completion_mask": _pad(masks, 0, width),
        }
