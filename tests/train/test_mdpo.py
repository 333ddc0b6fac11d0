"""mDPO: the trainer's loss against an independent computation, training, and the LoRA reference."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from transformers import AutoModelForCausalLM

from magnet_core.train.mdpo import build_mdpo_trainer, run_mdpo


def _batch(trainer, n: int = 3):
    return trainer.data_collator([trainer.train_dataset[i] for i in range(n)])


def _summed_logps(model, batch) -> torch.Tensor:
    """Sum of log p(token) over masked (assistant) positions, per row, in plain torch."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1]
    targets = batch["input_ids"][:, 1:]
    token_logps = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    mask = batch["completion_mask"][:, 1:].bool()
    return (token_logps * mask).sum(dim=1), token_logps, mask


def _perturb(model, seed: int, scale: float = 0.02) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn(param.shape, generator=generator) * scale)


def test_mdpo_loss_matches_an_independent_computation(make_config):
    config = make_config(stage="mdpo", beta=0.3, mdpo_lambda=0.7)
    trainer = build_mdpo_trainer(config)
    assert trainer.ref_model is not None and trainer.ref_model is not trainer.model
    assert not any(p.requires_grad for p in trainer.ref_model.parameters())
    _perturb(trainer.model, seed=1)  # the policy moves away from the frozen SFT reference
    batch = _batch(trainer)
    with torch.no_grad():
        loss = trainer.compute_loss(trainer.model, dict(batch)).item()

        reference = AutoModelForCausalLM.from_pretrained(config.model_path).eval()
        policy = trainer.model.eval()
        pi, pi_tokens, mask = _summed_logps(policy, batch)
        ref, _, _ = _summed_logps(reference, batch)
    n = batch["input_ids"].shape[0] // 2
    margin = (pi[:n] - ref[:n]) - (pi[n:] - ref[n:])
    assert margin.abs().min() > 1e-3  # the check is not trivially at log-ratio 0
    m_dpo = -F.logsigmoid(config.beta * margin).mean()
    sft = -pi_tokens[:n][mask[:n]].mean()
    expected = sft + config.mdpo_lambda * m_dpo
    assert loss == pytest.approx(expected.item(), abs=1e-5)
    # system/user text and tool outputs are context only: the mask leaves them out
    assert 0 < mask[:n].sum() < (batch["attention_mask"][:n, 1:]).sum()


def test_mdpo_training_lowers_loss_and_logs_rewards(make_config, smoke_dataset):
    config = make_config(stage="mdpo", learning_rate=1e-3, beta=0.5, max_steps=8)
    result = run_mdpo(config)
    records = [json.loads(line) for line in (config.output_dir / "metrics.jsonl").read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert len(steps) == 8
    assert sum(r["loss"] for r in steps[-3:]) / 3 < sum(r["loss"] for r in steps[:3]) / 3
    assert steps[-1]["rewards/margins"] > 0
    for key in ("rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen", "num_tokens"):
        assert key in steps[-1]
    assert result.steps == 8 and result.tokens_per_second > 0
    summary = json.loads(result.metrics_path.read_text())
    assert summary["final_loss"] < summary["first_loss"]
    assert (result.final_dir / "tokenizer.json").is_file()


def test_lora_mdpo_reference_is_the_adapter_disabled_model(make_config):
    from peft import PeftModel

    config = make_config(stage="mdpo", lora={"r": 4, "alpha": 8, "dropout": 0.0})
    trainer = build_mdpo_trainer(config)
    assert trainer.ref_model is None and isinstance(trainer.model, PeftModel)
    with torch.no_grad():
        for name, param in trainer.model.named_parameters():
            if "lora_B" in name:  # LoRA starts as a no-op; make the adapter matter
                param.copy_(torch.randn_like(param) * 0.5)
    batch = _batch(trainer)
    with torch.no_grad():
        ref_chosen, ref_rejected = trainer.compute_ref_log_probs(trainer.model, dict(batch))
        base = AutoModelForCausalLM.from_pretrained(config.model_path).eval()
        base_logps, _, _ = _summed_logps(base, batch)
        policy_logps, _, _ = _summed_logps(trainer.model.eval(), batch)
    ref = torch.cat([ref_chosen, ref_rejected])
    torch.testing.assert_close(ref, base_logps, atol=1e-4, rtol=1e-6)
    assert (policy_logps - base_logps).abs().max() > 1e-2  # adapters on: a different model
