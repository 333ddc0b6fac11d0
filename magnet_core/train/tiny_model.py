"""A tiny random Qwen2-architecture model and a locally built tokenizer.

Tests and CPU smoke runs need a real causal LM with the Qwen2.5 chat format (tool calls, `<|im_start|>`
turns, assistant generation markers) without hub access. The tokenizer is a byte-level BPE trained on a
small in-code corpus of chat/JSON/tool-call text, so any text encodes (bytes are the fallback) and the
tokenization is deterministic; the weights are random from `seed`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from magnet_core.train.chat_template import QWEN25_TRAINING_TEMPLATE

PAD_TOKEN = "<|endoftext|>"
IM_START = "<|im_start|>"
IM_END = "<|im_end|>"
SPECIAL_TOKENS = (PAD_TOKEN, IM_START, IM_END)
TOOL_TOKENS = ("<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>", "<tools>", "</tools>")

DEFAULT_SIZE: dict[str, Any] = {
    "vocab_size": 1024,
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 8192,
}

_WORDS = (
    "the a an to of and in on for with by from is are was be please can you I we it this that what which "
    "list file files directory folder move copy create delete rename open close read write find search "
    "ticket flight book cancel price stock order buy sell balance account user name id value result error "
    "message send post tweet follow vehicle engine start fuel tank door lock temperature city date time "
    "number amount total count path content text query status success true false null yes no done thanks "
    "system assistant tool function arguments parameters properties type string integer boolean object array "
    "description required enum default items call response helpful created Alibaba Cloud Qwen Tools XML tags "
    "signatures provided return json object within one or more functions assist"
)


def _corpus() -> list[str]:
    """Text shaped like what the model will see: chat turns, tool schemas, tool calls and JSON outputs."""
    words = _WORDS.split()
    lines: list[str] = []
    for index, word in enumerate(words):
        other = words[(index * 7 + 3) % len(words)]
        args = {"name": word, "count": index, "flag": index % 2 == 0, "items": [other, word]}
        lines.append(f"{IM_START}user\nPlease {word} the {other} {index}.{IM_END}\n")
        lines.append(
            f'{IM_START}assistant\n<tool_call>\n{{"name": "{word}_{other}", "arguments": '
            f"{json.dumps(args)}}}\n</tool_call>{IM_END}\n"
        )
        output = json.dumps({"result": other, "ok": True})
        lines.append(f"{IM_START}user\n<tool_response>\n{output}\n</tool_response>{IM_END}\n")
        schema = {
            "type": "function",
            "function": {
                "name": f"{word}_{other}",
                "description": f"{word.capitalize()} a {other}.",
                "parameters": {
                    "type": "object",
                    "properties": {word: {"type": "string", "description": f"The {other}."}},
                    "required": [word],
                },
            },
        }
        lines.append(json.dumps(schema))
        lines.append(" ".join(words[index : index + 12]))
    lines.append("0123456789 {}[]():;,.'\"-_/\\ <> = + * ? ! @ # $ % & ~ ` ^ |")
    return lines


def build_tokenizer(vocab_size: int = DEFAULT_SIZE["vocab_size"]):
    """Train a byte-level BPE on the in-code corpus and wrap it as a Qwen-style fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    special = list(SPECIAL_TOKENS) + list(TOOL_TOKENS)
    model = Tokenizer(models.BPE())
    model.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    model.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(special),
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    model.train_from_iterator(_corpus(), trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=model,
        bos_token=None,
        eos_token=IM_END,
        pad_token=PAD_TOKEN,
        additional_special_tokens=[IM_START],
        model_max_length=DEFAULT_SIZE["max_position_embeddings"],
    )
    tokenizer.chat_template = QWEN25_TRAINING_TEMPLATE
    return tokenizer


def create_tiny_model(output_dir: Path, seed: int = 0, **size: Any) -> Path:
    """Build and save a tiny random Qwen2 causal LM plus tokenizer; returns `output_dir`.

    `size` overrides entries of `DEFAULT_SIZE` (vocab_size, hidden_size, intermediate_size,
    num_hidden_layers, num_attention_heads, num_key_value_heads, max_position_embeddings).
    """
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    unknown = set(size) - set(DEFAULT_SIZE)
    if unknown:
        raise ValueError(f"unknown tiny-model size keys: {sorted(unknown)}")
    dims = {**DEFAULT_SIZE, **size}
    tokenizer = build_tokenizer(dims["vocab_size"])
    vocab = max(dims["vocab_size"], len(tokenizer))
    config = Qwen2Config(
        **{**dims, "vocab_size": vocab},
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        torch_dtype="float32",
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    return output_dir
