"""The per-rank entry the launcher starts: read the config, run its stage.

`python -m magnet_core.train.worker --config run.yaml` is also a valid single-process run.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
from pathlib import Path

from magnet_core.train.config import TrainConfig, load_train_config
from magnet_core.train.runtime import TrainResult


def run_config(config: TrainConfig) -> TrainResult:
    if config.stage == "sft":
        from magnet_core.train.sft import run_sft

        return run_sft(config)
    from magnet_core.train.mdpo import run_mdpo

    return run_mdpo(config)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--max-steps", type=int, default=None, help="override max_steps (smoke runs)")
    args = parser.parse_args(argv)
    overrides = {"max_steps": args.max_steps} if args.max_steps is not None else {}
    result = run_config(load_train_config(args.config, **overrides))
    if int(os.environ.get("RANK", "0")) == 0:  # metrics and losses are gathered on rank 0 only
        print(json.dumps(asdict(result), default=str), flush=True)


if __name__ == "__main__":
    main()
