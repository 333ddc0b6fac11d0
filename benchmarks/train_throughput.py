"""Training throughput: tokens/s, peak memory and (on GPU) MFU for SFT and mDPO at a given model size.

Run on CPU (what this repo's CI machine has):
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_throughput.py --model-size tiny --steps 6
Run on one GPU (bf16, DeepSpeed ZeRO-2, a random model with Qwen2.5-0.5B's shape; no hub access):
    .venv/bin/python benchmarks/train_throughput.py --model-size 0.5b --bf16 --deepspeed zero2
The model is random (throughput does not depend on the weights) and the data is the smoke dataset
(multi-turn MathAPI trajectories, ~760 tokens each). Throughput is steady-state: tokens between the
first and the last logged step over the time between them, so start-up and the first step's
allocation are left out. MFU = achieved training FLOP/s over the GPU's dense bf16 peak, with
6 x params FLOPs per trained token for SFT and 8 x params for mDPO (policy forward+backward plus the
reference forward), plus the attention term 12 x layers x hidden x seq_len per token (x 4/3 for mDPO).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import sys
import tempfile
from pathlib import Path

# Shapes of the Qwen2.5 family (config.json of the released models), vocab included.
MODEL_SIZES: dict[str, dict[str, int]] = {
    "tiny": {},
    "0.5b": {"vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
             "num_attention_heads": 14, "num_key_value_heads": 2, "max_position_embeddings": 32768},
    "1.5b": {"vocab_size": 151936, "hidden_size": 1536, "intermediate_size": 8960, "num_hidden_layers": 28,
             "num_attention_heads": 12, "num_key_value_heads": 2, "max_position_embeddings": 32768},
    "7b": {"vocab_size": 152064, "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
           "num_attention_heads": 28, "num_key_value_heads": 4, "max_position_embeddings": 32768},
}

# Dense bf16 peak FLOP/s (no sparsity), by substring of torch.cuda.get_device_name().
PEAK_BF16_FLOPS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "A10G": 125e12, "L4": 121e12}


def _single_process_env() -> None:
    """DeepSpeed needs a process group even for one process; outside a launcher, make a 1-rank one."""
    if "WORLD_SIZE" in os.environ:
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    os.environ.update({"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1",
                       "MASTER_PORT": str(port)})


def _peak_memory_gib(on_gpu: bool) -> float:
    import torch

    if on_gpu:
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def _steady_tokens_per_second(metrics_jsonl: Path) -> float:
    records = [json.loads(line) for line in metrics_jsonl.read_text().splitlines()]
    steps = [r for r in records if "num_tokens" in r]
    if len(steps) < 2:
        raise RuntimeError("need at least 2 logged steps for a steady-state figure; raise --steps")
    first, last = steps[0], steps[-1]
    return (last["num_tokens"] - first["num_tokens"]) / (last["time_s"] - first["time_s"])


def _flops_per_token(model_dir: Path, stage: str, seq_len: float) -> float:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_dir)
    h, layers, vocab = config.hidden_size, config.num_hidden_layers, config.vocab_size
    kv = h // config.num_attention_heads * config.num_key_value_heads
    per_layer = 2 * h * h + 2 * h * kv + 3 * h * config.intermediate_size
    params = layers * per_layer + vocab * h  # tied embeddings count once (the LM head matmul)
    attention = 12 * layers * h * seq_len
    factor = 8 if stage == "mdpo" else 6
    return factor * params + attention * factor / 6


def run_stage(stage: str, args, model_dir: Path, data_dir: Path, work: Path) -> dict:
    import torch

    from magnet_core.train.config import TrainConfig
    from magnet_core.train.mdpo import run_mdpo
    from magnet_core.train.sft import run_sft

    on_gpu = torch.cuda.is_available()
    if on_gpu:
        torch.cuda.reset_peak_memory_stats()
    config = TrainConfig(
        stage=stage, model_path=model_dir, dataset_dir=data_dir, output_dir=work / f"out_{stage}",
        learning_rate=1e-5, effective_batch_size=args.batch, per_device_batch_size=args.batch,
        num_train_epochs=1000, max_steps=args.steps, max_length=args.max_length, bf16=args.bf16,
        use_cpu=not on_gpu, deepspeed=args.deepspeed, gradient_checkpointing=args.gradient_checkpointing,
        save_steps=10**9, resume=False,
    )
    result = (run_sft if stage == "sft" else run_mdpo)(config)
    tokens_per_s = _steady_tokens_per_second(config.output_dir / "metrics.jsonl")
    records = [json.loads(line) for line in (config.output_dir / "metrics.jsonl").read_text().splitlines()]
    counted = [r["num_tokens"] for r in records if "num_tokens" in r]
    rows_per_step = args.batch * (2 if stage == "mdpo" else 1)
    seq_len = counted[-1] / (len(counted) * rows_per_step)
    figures = {"stage": stage, "tokens_per_s": round(tokens_per_s, 1), "peak_mem_gib": round(_peak_memory_gib(on_gpu), 3),
               "steps": result.steps, "mean_seq_len": round(seq_len, 1)}
    if on_gpu:
        name = torch.cuda.get_device_name()
        peak = next((flops for key, flops in PEAK_BF16_FLOPS.items() if key in name), None)
        achieved = tokens_per_s * _flops_per_token(model_dir, stage, seq_len)
        figures.update({"device": name, "tflops": round(achieved / 1e12, 2),
                        "mfu": round(achieved / peak, 4) if peak and args.bf16 else None})
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-size", choices=sorted(MODEL_SIZES), default="tiny")
    parser.add_argument("--stages", nargs="+", choices=("sft", "mdpo"), default=["sft", "mdpo"])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--batch", type=int, default=2, help="sequences per step (mDPO: pairs)")
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--bf16", action="store_true")
    parser.add_argument("--deepspeed", choices=("zero2", "zero2_offload", "zero3", "zero3_offload"), default=None)
    parser.add_argument("--gradient-checkpointing", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.deepspeed:
        _single_process_env()
    import torch
    from transformers import AutoModelForCausalLM

    from magnet_core.train.smoke_data import write_smoke_dataset
    from magnet_core.train.tiny_model import create_tiny_model

    if args.bf16 and not torch.cuda.is_available():
        sys.exit("--bf16 needs a GPU (bf16 on this CPU path is not what the figures are for)")
    with tempfile.TemporaryDirectory(prefix="train_bench_") as tmp:
        work = Path(tmp)
        n = max(8, args.steps * args.batch)
        data_dir = write_smoke_dataset(work / "data", n_sft=n, n_pairs=n, seed=0)
        model_dir = create_tiny_model(work / "model", seed=0, **MODEL_SIZES[args.model_size])
        params = sum(p.numel() for p in AutoModelForCausalLM.from_pretrained(model_dir).parameters())
        device = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
        print(f"model-size {args.model_size} ({params / 1e6:.1f}M params), device {device}, bf16 {args.bf16}, "
              f"deepspeed {args.deepspeed}, batch {args.batch}, steps {args.steps}")
        for stage in args.stages:
            print(json.dumps(run_stage(stage, args, model_dir, data_dir, work)), flush=True)


if __name__ == "__main__":
    main()
