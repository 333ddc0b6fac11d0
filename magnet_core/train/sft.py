"""Supervised fine-tuning on the factory's positive trajectories with TRL's `SFTTrainer`.

Loss is on assistant tokens only (tool calls and replies); system/user text and tool outputs are context.
The mask comes from the chat template's `{% generation %}` markers, so it follows the exact rendering the
model sees, tools block included.
"""

from __future__ import annotations

from magnet_core.train.config import TrainConfig
from magnet_core.train.data import dataset_version_id, load_sft_rows, load_training_tokenizer
from magnet_core.train.peft_setup import load_policy_model, lora_config
from magnet_core.train.runtime import TrainResult, count_dropped, prepare_distributed, run_trainer, trainer_arguments


def build_sft_trainer(config: TrainConfig, train_dataset=None):
    """The configured SFTTrainer (exposed for tests and benchmarks that need the trainer itself)."""
    from trl import SFTConfig, SFTTrainer

    if config.stage != "sft":
        raise ValueError(f"build_sft_trainer needs stage 'sft', got {config.stage!r}")
    prepare_distributed(config)
    args = SFTConfig(
        **trainer_arguments(config),
        assistant_only_loss=True,
        packing=config.packing,
        packing_strategy="bfd",
        padding_free=config.packing,
        dataset_num_proc=None,
    )
    tokenizer = load_training_tokenizer(config.model_path)
    dataset = train_dataset if train_dataset is not None else load_sft_rows(config.dataset_dir)
    return SFTTrainer(
        model=load_policy_model(config),
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        peft_config=lora_config(config),
    )


def run_sft(config: TrainConfig) -> TrainResult:
    rows = load_sft_rows(config.dataset_dir)
    trainer = build_sft_trainer(config, rows)
    dropped = count_dropped(len(rows), trainer, packed=config.packing)
    return run_trainer(trainer, config, trainer.processing_class, dataset_version_id(config.dataset_dir), dropped)
