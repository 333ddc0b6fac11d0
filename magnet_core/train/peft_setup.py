"""Loading the policy model and the optional LoRA adapter configuration.

Full fine-tuning and LoRA differ only here: the trainers receive a `peft_config` (or None) and TRL wraps
the model; for mDPO that also decides the reference (LoRA: the same model with adapters disabled).
"""

from __future__ import annotations

from magnet_core.train.config import TrainConfig


def load_policy_model(config: TrainConfig):
    import torch
    from transformers import AutoModelForCausalLM

    dtype = torch.bfloat16 if config.bf16 else torch.float32
    extra = {"attn_implementation": config.attn_implementation} if config.attn_implementation else {}
    return AutoModelForCausalLM.from_pretrained(str(config.model_path), dtype=dtype, **extra)


def lora_config(config: TrainConfig):
    if config.lora is None:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora.r,
        lora_alpha=config.lora.alpha,
        lora_dropout=config.lora.dropout,
        target_modules=list(config.lora.target_modules),
        task_type="CAUSAL_LM",
    )
