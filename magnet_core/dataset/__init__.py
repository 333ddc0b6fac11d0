"""Dataset assembly: mixture, dedup, BFCL decontamination, versioned Parquet, card and loaders.

Entry points: `magnet_core.dataset.stage.assemble_batches` (shard by shard, memory flat in the dataset's
size) and `assemble_dataset` (in-memory lists); loaders in `magnet_core.dataset.loading`.
Heavy pieces (the BFCL index, matplotlib, `datasets`) are imported where they are used.
"""

from magnet_core.dataset.config import AssembleConfig, DatasetVersion, DecontamConfig, DedupConfig, MixtureRow, MixtureTarget

__all__ = ["AssembleConfig", "DatasetVersion", "DecontamConfig", "DedupConfig", "MixtureRow", "MixtureTarget"]
