"""The tiny local model, the chat rendering of factory data, and the assistant-only mask."""

from __future__ import annotations

import re

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from magnet_core.train.data import load_preference_rows, load_sft_rows, load_training_tokenizer
from magnet_core.train.mdpo_data import tokenize_pair, tokenize_trajectory
from magnet_core.train.tiny_model import create_tiny_model


def test_tiny_model_loads_with_auto_classes_and_is_seeded(tiny_model_dir, tmp_path):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "qwen2"
    assert 100_000 < sum(p.numel() for p in model.parameters()) < 1_000_000
    for token in ("<|im_start|>", "<|im_end|>", "<tool_call>", "</tool_call>", "<|endoftext|>"):
        assert len(tokenizer(token, add_special_tokens=False)["input_ids"]) == 1, token
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|endoftext|>"
    text = '<tool_call>\n{"name": "mkdir", "arguments": {"dir_name": "Ünïcode ☃"}}\n</tool_call>'
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text

    again = AutoModelForCausalLM.from_pretrained(create_tiny_model(tmp_path / "again", seed=0))
    other = AutoModelForCausalLM.from_pretrained(create_tiny_model(tmp_path / "other", seed=1))
    weights = model.state_dict()
    assert all(torch.equal(weights[k], v) for k, v in again.state_dict().items())
    assert not torch.equal(weights["model.embed_tokens.weight"], other.state_dict()["model.embed_tokens.weight"])


def test_rendered_factory_rows_have_tools_calls_outputs_and_no_nulls(tiny_model_dir, smoke_dataset):
    tokenizer = load_training_tokenizer(tiny_model_dir)
    for row in load_sft_rows(smoke_dataset):
        text = tokenizer.apply_chat_template(row["messages"], tools=row["tools"], tokenize=False)
        assert "# Tools" in text and '"name": "add"' in text
        assert text.count("<tool_call>") >= 3 and text.count("<tool_response>") == 2  # schema hint + 2 calls
        assert not re.search(r"\bnull\b|\bNone\b", text), text
    for row in load_preference_rows(smoke_dataset):
        for side in ("chosen", "rejected"):
            text = tokenizer.apply_chat_template(row["prompt"] + row[side], tools=row["tools"], tokenize=False)
            assert not re.search(r"\bnull\b|\bNone\b", text), text


def _expected_mask(tokenizer, text: str) -> list[int]:
    """Independent of the template machinery: assistant spans located in the rendered text."""
    spans = []
    for match in re.finditer(re.escape("<|im_start|>assistant"), text):
        end = text.index("<|im_end|>\n", match.end()) + len("<|im_end|>\n")
        spans.append((match.end(), end))
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    return [int(any(lo <= a and b <= hi for lo, hi in spans)) for a, b in offsets]


def test_assistant_mask_covers_exactly_the_assistant_spans(tiny_model_dir, smoke_dataset):
    tokenizer = load_training_tokenizer(tiny_model_dir)
    row = load_preference_rows(smoke_dataset)[0]
    messages = row["prompt"] + row["rejected"]
    ids, mask = tokenize_trajectory(tokenizer, messages, row["tools"])
    text = tokenizer.apply_chat_template(messages, tools=row["tools"], tokenize=False)
    assert ids == tokenizer(text, add_special_tokens=False)["input_ids"]
    assert mask == _expected_mask(tokenizer, text)
    masked_text = tokenizer.decode([t for t, m in zip(ids, mask) if m])
    unmasked_text = tokenizer.decode([t for t, m in zip(ids, mask) if not m])
    assert masked_text.count("<tool_call>") == 2 and "<tool_response>" not in masked_text
    assert "What is" not in masked_text and "# Tools" in unmasked_text and '{"result":' in unmasked_text
    assert masked_text.count("<|im_end|>") == 4  # two calls + two replies, each closed by the model


def test_pair_tokenisation_keeps_shared_history_identical(tiny_model_dir, smoke_dataset):
    tokenizer = load_training_tokenizer(tiny_model_dir)
    row = load_preference_rows(smoke_dataset)[0]
    pair = tokenize_pair(row, tokenizer)
    prefix = 0
    while pair["chosen_input_ids"][prefix] == pair["rejected_input_ids"][prefix]:
        prefix += 1
    assert pair["chosen_assistant_mask"][:prefix] == pair["rejected_assistant_mask"][:prefix]
    assert 1 in pair["chosen_assistant_mask"][:prefix]  # the shared history has assistant turns
    assert 1 in pair["chosen_assistant_mask"][prefix:] and 1 in pair["rejected_assistant_mask"][prefix:]


def test_sft_trainer_labels_follow_the_assistant_mask(make_config, tiny_model_dir, smoke_dataset):
    from magnet_core.train.sft import build_sft_trainer

    trainer = build_sft_trainer(make_config())
    tokenizer = load_training_tokenizer(tiny_model_dir)
    example = trainer.train_dataset[0]
    text = tokenizer.decode(example["input_ids"])
    expected = _expected_mask(tokenizer, text)
    assert [int(label != -100) for label in example["labels"]] == expected
    assert all(label in (-100, token) for label, token in zip(example["labels"], example["input_ids"]))
