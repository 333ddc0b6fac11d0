"""What SFT and mDPO runs share: trainer arguments, metrics files, checkpoints, the final artifact.

The final artifact is one directory (`<output_dir>/final`) holding model, tokenizer, the exact config and
the dataset version id, so a model can always be traced to its data. Metrics go to
`<output_dir>/metrics.jsonl` (one line per log step) and `<output_dir>/metrics.json` (the summary), the
files the orchestration publishes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from magnet_core.train.config import TrainConfig

logger = logging.getLogger(__name__)

FINAL_DIR = "final"
METRICS_JSONL = "metrics.jsonl"
METRICS_JSON = "metrics.json"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class TrainResult:
    output_dir: Path
    final_dir: Path
    final_loss: float | None
    metrics_path: Path
    steps: int
    tokens_per_second: float
    resumed_from_step: int | None
    dataset_version: str


def trainer_arguments(config: TrainConfig) -> dict[str, Any]:
    """Keyword arguments common to `SFTConfig` and `DPOConfig`."""
    ds_config = config.deepspeed_config_path()
    return {
        "output_dir": str(config.output_dir),
        "learning_rate": config.learning_rate,
        "warmup_steps": config.warmup_ratio,  # a float below 1 is a ratio of the total steps
        "lr_scheduler_type": config.lr_scheduler_type,
        "per_device_train_batch_size": config.per_device_batch_size,
        "gradient_accumulation_steps": config.gradient_accumulation_steps,
        "num_train_epochs": config.num_train_epochs,
        "max_steps": config.max_steps,
        "max_length": config.max_length,
        "weight_decay": config.weight_decay,
        "activation_checkpointing": config.gradient_checkpointing,
        "bf16": config.bf16,
        "use_cpu": config.use_cpu,
        "deepspeed": str(ds_config) if ds_config else None,
        "save_strategy": "steps",
        "save_steps": config.save_steps,
        "save_total_limit": config.save_total_limit,
        "logging_steps": config.logging_steps,
        "seed": config.seed,
        "data_seed": config.seed,
        "report_to": "none",
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }


def prepare_distributed(config: TrainConfig) -> None:
    """DeepSpeed on CPU: gloo backend, and no JIT build of the shared-memory comm op (about 85 s here)."""
    if config.deepspeed is None or not config.use_cpu:
        return
    import deepspeed

    deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
    if "WORLD_SIZE" in os.environ:
        deepspeed.init_distributed("gloo")


def latest_complete_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint whose trainer state was written: the Trainer writes it last, so a run killed
    while saving leaves a checkpoint without it, which we skip rather than resume from half a save."""
    candidates = []
    for path in Path(output_dir).glob("checkpoint-*"):
        match = CHECKPOINT_RE.match(path.name)
        if match and (path / "trainer_state.json").is_file():
            candidates.append((int(match.group(1)), path))
    return max(candidates)[1] if candidates else None


LOGGED_METRICS = ("loss", "train_loss", "learning_rate", "grad_norm", "rewards/margins", "rewards/accuracies")


class JsonlMetricsCallback(TrainerCallback):
    """Appends every log record (loss, rewards, margins, accuracies, tokens) to metrics.jsonl."""

    def __init__(self, path: Path):
        self.path = path
        self.records: list[dict[str, Any]] = []
        self.started = time.perf_counter()

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs:
            return
        record = {"step": state.global_step, "time_s": round(time.perf_counter() - self.started, 3), **logs}
        self.records.append(record)
        shown = {k: v for k, v in logs.items() if k in LOGGED_METRICS}
        if shown:  # one line per logging step: the orchestration forwards it to the run's log
            logger.info("step %d/%d: %s", state.global_step, state.max_steps,
                        ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items()))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, default=float) + "\n")


def count_dropped(source_rows: int, trainer, packed: bool = False) -> int:
    """Rows the trainer's preparation removed (no assistant token left within max_length): refused
    loudly when nothing is left, otherwise counted in the summary rather than lost silently. Packed
    datasets merge rows, so there only emptiness can be checked."""
    kept = len(trainer.train_dataset)
    if kept == 0:
        raise ValueError(f"no training example keeps an assistant token within max_length={trainer.args.max_length}")
    if packed:
        return 0
    if kept < source_rows:
        logger.warning("%d of %d examples have no assistant token within max_length", source_rows - kept, source_rows)
    return source_rows - kept


def run_trainer(
    trainer, config: TrainConfig, tokenizer, dataset_version: str, dropped_examples: int = 0
) -> TrainResult:
    """Train (resuming when a complete checkpoint exists), then save the final artifact and the summary."""
    output_dir = Path(config.output_dir)
    metrics = JsonlMetricsCallback(output_dir / METRICS_JSONL)
    trainer.add_callback(metrics)
    checkpoint = latest_complete_checkpoint(output_dir) if config.resume else None
    resumed_from = int(CHECKPOINT_RE.match(checkpoint.name).group(1)) if checkpoint else None
    if checkpoint:
        logger.info("resuming from %s", checkpoint)
    started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    elapsed = time.perf_counter() - started
    tokens = _tokens_seen(metrics.records)
    losses = [r["loss"] for r in metrics.records if "loss" in r]
    final_dir = output_dir / FINAL_DIR
    trainer.save_model(str(final_dir))
    result = TrainResult(
        output_dir=output_dir,
        final_dir=final_dir,
        final_loss=losses[-1] if losses else None,
        metrics_path=output_dir / METRICS_JSON,
        steps=trainer.state.global_step,
        tokens_per_second=tokens / elapsed if elapsed > 0 else 0.0,
        resumed_from_step=resumed_from,
        dataset_version=dataset_version,
    )
    if trainer.accelerator.is_main_process:
        tokenizer.save_pretrained(str(final_dir))
        config.to_yaml(final_dir / "train_config.yaml")
        (final_dir / "dataset_version.json").write_text(
            json.dumps({"dataset_version": dataset_version, "dataset_dir": str(config.dataset_dir)}, indent=2),
            encoding="utf-8",
        )
        summary = {
            "stage": config.stage,
            "dataset_version": dataset_version,
            "steps": result.steps,
            "final_loss": result.final_loss,
            "first_loss": losses[0] if losses else None,
            "tokens_per_second": result.tokens_per_second,
            "train_runtime_s": elapsed,
            "resumed_from_step": resumed_from,
            "dropped_examples": dropped_examples,
            "world_size": trainer.accelerator.num_processes,
            "deepspeed_zero_stage": _zero_stage(trainer),
            "trainer_metrics": output.metrics,
        }
        (output_dir / METRICS_JSON).write_text(json.dumps(summary, indent=2, default=float), encoding="utf-8")
    trainer.accelerator.wait_for_everyone()
    return result


def _zero_stage(trainer) -> int | None:
    """The ZeRO stage the DeepSpeed engine actually runs with (None without DeepSpeed)."""
    engine = getattr(trainer, "deepspeed", None)
    return int(engine.zero_optimization_stage()) if engine is not None else None


def _tokens_seen(records: list[dict[str, Any]]) -> float:
    """Tokens this invocation trained on: TRL's `num_tokens` log is cumulative and restarts at 0 on resume."""
    counts = [r["num_tokens"] for r in records if "num_tokens" in r]
    return float(counts[-1]) if counts else 0.0
