"""Dataset assembly: mixture, dedup, BFCL decontamination, versioned Parquet, card and loaders.

Entry point: `magnet_core.dataset.stage.assemble_dataset`; loaders in `magnet_core.dataset.loading`.
Heavy pieces (the BFCL index, matplotlib, `datasets`) are imported where they are used.
"""

from magnet_core.dataset.config import AssembleConfig, DatasetVersion, DecontamConfig, DedupConfig, MixtureRow, MixtureTarget

__all__ = ["AssembleConfig", "DatasetVersion", "DecontamConfig", "DedupConfig", "MixtureRow", "MixtureTarget"]
