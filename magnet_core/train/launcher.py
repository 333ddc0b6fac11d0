"""Building, logging and running the multi-process launch of a training config.

One YAML drives the run: the launcher reads its `launch` block (launcher, processes per node, nodes,
hostfile, rendezvous address) and starts `magnet_core.train.worker` on every rank with the same file.
The command is printed and appended to `<output_dir>/launch.log` before it runs, so a run can always be
reproduced by hand.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from magnet_core.train.config import TrainConfig, load_train_config

logger = logging.getLogger(__name__)

WORKER_MODULE = "magnet_core.train.worker"
LAUNCH_LOG = "launch.log"


def build_launch_command(config_path: Path, config: TrainConfig) -> list[str]:
    launch = config.launch
    worker = [WORKER_MODULE, "--config", str(Path(config_path).resolve())]
    if launch.launcher == "deepspeed":
        command = ["deepspeed", "--num_gpus", str(launch.num_processes), "--num_nodes", str(launch.num_nodes)]
        if launch.hostfile is not None:
            command += ["--hostfile", str(launch.hostfile)]
        command += ["--master_addr", launch.main_process_ip, "--master_port", str(launch.main_process_port)]
        return command + ["--module", *worker]
    if launch.launcher == "torchrun":
        return [
            sys.executable, "-m", "torch.distributed.run",
            "--nproc_per_node", str(launch.num_processes),
            "--nnodes", str(launch.num_nodes),
            "--node_rank", str(launch.machine_rank),
            "--master_addr", launch.main_process_ip,
            "--master_port", str(launch.main_process_port),
            "-m", *worker,
        ]
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--num_processes", str(launch.world_size),
        "--num_machines", str(launch.num_nodes),
        "--machine_rank", str(launch.machine_rank),
        "--main_process_ip", launch.main_process_ip,
        "--main_process_port", str(launch.main_process_port),
        "--mixed_precision", "bf16" if config.bf16 else "no",
        "--dynamo_backend", "no",
    ]
    # accelerate takes one of these modes; on CPU with DeepSpeed the worker's `use_cpu` picks the device
    if config.deepspeed is not None:
        command += ["--use_deepspeed", "--deepspeed_config_file", str(config.deepspeed_config_path())]
        if launch.hostfile is not None:
            command += ["--deepspeed_hostfile", str(launch.hostfile)]
    elif config.use_cpu:
        command.append("--cpu")
    elif launch.world_size > 1:
        command.append("--multi_gpu")
    return command + ["-m", *worker]


def log_launch_command(command: list[str], config: TrainConfig) -> str:
    text = shlex.join(command)
    print(text, flush=True)
    logger.info("launch: %s", text)
    log_path = Path(config.output_dir) / LAUNCH_LOG
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf-8") as handle:
        handle.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {text}\n")
    return text


def launch(config_path: Path, dry_run: bool = False, timeout_s: float | None = None) -> int:
    """Print and log the command, then run it (unless `dry_run`); returns the exit status."""
    config = load_train_config(config_path)
    command = build_launch_command(config_path, config)
    log_launch_command(command, config)
    if dry_run:
        return 0
    env = {**os.environ}
    if config.use_cpu:
        env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run(command, env=env, timeout=timeout_s, check=False).returncode
