"""Multi-turn DPO (mDPO): SFT loss on the chosen trajectory + lambda x M-DPO, on TRL's `DPOTrainer`.

Why a `DPOTrainer` subclass: its loss already is a weighted sum of named terms, and two of them are
exactly ours once the completion mask is the multi-turn assistant mask:
  - "sigmoid": -logsigmoid(beta * ((sum logp_pi - sum logp_ref)[chosen] - (...)[rejected])), the sums
    running over the masked tokens, i.e. M-DPO over all assistant tokens of each full trajectory;
  - "sft": mean NLL over the chosen side's masked tokens.
With `loss_type=["sigmoid", "sft"]` and `loss_weights=[lambda, 1]` the parent computes the method's loss,
logs rewards/margins/accuracies, builds the reference (full fine-tuning: a frozen copy loaded from the SFT
model; LoRA: the same model with adapters disabled) and handles DeepSpeed. We replace only the data path
(whole-trajectory tokenisation with assistant masks, `mdpo_data`), which TRL's contiguous-completion
collator cannot express.
"""

from __future__ import annotations

from trl import DPOConfig, DPOTrainer

from magnet_core.train.config import TrainConfig
from magnet_core.train.data import dataset_version_id, load_preference_rows, load_training_tokenizer
from magnet_core.train.mdpo_data import TOKENIZED_COLUMNS, MultiTurnPreferenceCollator, tokenize_pair
from magnet_core.train.peft_setup import load_policy_model, lora_config
from magnet_core.train.runtime import TrainResult, count_dropped, prepare_distributed, run_trainer, trainer_arguments


class MultiTurnDPOTrainer(DPOTrainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.ref_model is not None:  # the SFT reference never trains; say so to autograd as well
            self.ref_model.requires_grad_(False)

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        tokenizer = getattr(processing_class, "tokenizer", processing_class)
        tokenized = dataset.map(
            tokenize_pair,
            fn_kwargs={"tokenizer": tokenizer},
            remove_columns=[c for c in dataset.column_names if c not in TOKENIZED_COLUMNS],
            desc=f"Tokenizing {dataset_name} trajectories",
        )
        if args.max_length is None:
            return tokenized

        def keeps_assistant_tokens(example):
            # keep_start truncation must leave assistant tokens on both sides, or the pair teaches nothing
            return all(1 in example[f"{side}_assistant_mask"][: args.max_length] for side in ("chosen", "rejected"))

        return tokenized.filter(keeps_assistant_tokens, desc=f"Dropping over-long {dataset_name} pairs")

    def _set_signature_columns_if_needed(self):
        if self._signature_columns is None:
            self._signature_columns = list(TOKENIZED_COLUMNS)


def mdpo_trainer_config(config: TrainConfig) -> DPOConfig:
    return DPOConfig(
        **trainer_arguments(config),
        beta=config.beta,
        loss_type=["sigmoid", "sft"],
        loss_weights=[config.mdpo_lambda, 1.0],
        precompute_ref_log_probs=False,
    )


def build_mdpo_trainer(config: TrainConfig, train_dataset=None) -> MultiTurnDPOTrainer:
    """The configured trainer (exposed for tests and benchmarks that need the trainer itself)."""
    if config.stage != "mdpo":
        raise ValueError(f"build_mdpo_trainer needs stage 'mdpo', got {config.stage!r}")
    prepare_distributed(config)
    args = mdpo_trainer_config(config)
    tokenizer = load_training_tokenizer(config.model_path)
    dataset = train_dataset if train_dataset is not None else load_preference_rows(config.dataset_dir)
    return MultiTurnDPOTrainer(
        model=load_policy_model(config),
        ref_model=None,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
        data_collator=MultiTurnPreferenceCollator(pad_token_id=tokenizer.pad_token_id, max_length=config.max_length),
        peft_config=lora_config(config),
    )


def run_mdpo(config: TrainConfig) -> TrainResult:
    rows = load_preference_rows(config.dataset_dir)
    trainer = build_mdpo_trainer(config, rows)
    dropped = count_dropped(len(rows), trainer)
    return run_trainer(trainer, config, trainer.processing_class, dataset_version_id(config.dataset_dir), dropped)
