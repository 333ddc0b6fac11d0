"""Reading a dataset version for training, and the tokenizer set-up both trainers share.

Rows come from the dataset area's loaders (`magnet_core.dataset.loading`), which return the stored
conversations exactly (`datasets.Json` columns, no null-filled keys). The version id travels with the
trained model so a checkpoint always says which data made it.
"""

from __future__ import annotations

from pathlib import Path

from magnet_core.dataset.loading import load_preference_dataset, load_sft_dataset
from magnet_core.dataset.parquet_io import read_manifest
from magnet_core.train.chat_template import QWEN25_TRAINING_TEMPLATE


def _non_empty(dataset, where: str):
    if len(dataset) == 0:
        raise ValueError(f"{where}: no rows to train on")
    return dataset


def load_sft_rows(dataset_dir: Path):
    return _non_empty(load_sft_dataset(dataset_dir), f"{dataset_dir}/sft")


def load_preference_rows(dataset_dir: Path):
    return _non_empty(load_preference_dataset(dataset_dir), f"{dataset_dir}/preference")


def dataset_version_id(dataset_dir: Path) -> str:
    """The manifest's version id (the directory name when the manifest carries none)."""
    manifest = read_manifest(Path(dataset_dir))
    return str(manifest.get("version_id") or Path(dataset_dir).resolve().name)


def load_training_tokenizer(model_path: Path):
    """The model's tokenizer with a chat template that has `{% generation %}` markers.

    Assistant-only masks come from those markers; a Qwen2.5 template without them is swapped for TRL's
    training variant (same rendering, markers added), anything else must already carry them.
    """
    from transformers import AutoTokenizer
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    tokenizer = AutoTokenizer.from_pretrained(str(model_path))
    if tokenizer.chat_template is None:
        tokenizer.chat_template = QWEN25_TRAINING_TEMPLATE
    elif not has_generation_markers(tokenizer.chat_template):
        patched = get_training_chat_template(tokenizer)
        if patched is not None:
            tokenizer.chat_template = patched
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
