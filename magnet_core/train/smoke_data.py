"""A small dataset version in the factory's on-disk format, for smoke runs, tests and benchmarks.

Training must be exercised without running the whole synthesis pipeline, so this module builds a few
multi-turn trajectories and preference pairs from domain objects (BFCL `MathAPI` functions, executed on
the real backend for the tool outputs) and writes them as `sft/` and `preference/` Parquet with the
`datasets.Json` encoding the dataset contract prescribes. Everything it writes is marked
`smoke: true` / `offline: true`; it is not factory output and never goes into a released dataset.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.trajectory import ChatMessage, PreferencePair, ToolCall, Trajectory
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools import load_pool

_OPS = (("add", "the sum of"), ("multiply", "the product of"), ("subtract", "the difference of"))


def _call_turn(executor: CallExecutor, call: FunctionCall, call_id: str) -> list[ChatMessage]:
    result = executor.execute(call)
    return [
        ChatMessage(role="assistant", content="", tool_calls=(ToolCall(id=call_id, function=call),)),
        ChatMessage(role="tool", content=result.output_text(), tool_call_id=call_id, name=call.name),
    ]


def _episode(executor: CallExecutor, rng: random.Random, index: int, wrong: bool = False) -> tuple[list, list]:
    """(prompt, continuation): two user turns; `wrong` swaps the second turn's function for another."""
    (op1, text1), (op2, text2) = rng.sample(_OPS, 2)
    a, b, c = rng.randint(2, 40), rng.randint(2, 40), rng.randint(2, 9)
    first = FunctionCall(name=op1, arguments={"a": a, "b": b})
    prompt = [ChatMessage(role="user", content=f"What is {text1} {a} and {b}?")]
    prompt += _call_turn(executor, first, f"call_{index}_0")
    value = json.loads(prompt[-1].content)["result"]
    prompt.append(ChatMessage(role="assistant", content=f"It is {value}."))
    prompt.append(ChatMessage(role="user", content=f"Now give me {text2} that result and {c}."))
    second_op = next(op for op, _ in _OPS if op not in (op1, op2)) if wrong else op2
    second = FunctionCall(name=second_op, arguments={"a": value, "b": c})
    continuation = _call_turn(executor, second, f"call_{index}_1")
    answer = json.loads(continuation[-1].content)["result"]
    continuation.append(ChatMessage(role="assistant", content=f"The result is {answer}."))
    return prompt, continuation


def build_smoke_examples(n_sft: int = 8, n_pairs: int = 8, seed: int = 0):
    """Trajectories (SFT) and preference pairs (chosen: right function; rejected: a wrong one)."""
    pool = load_pool("bfcl")
    specs = [spec for spec in pool.specs if spec.tool_class == "MathAPI"]
    tools = tuple(spec.to_openai_tool() for spec in specs if spec.name in {op for op, _ in _OPS})
    rng = random.Random(seed)
    meta = {"category": "multi_turn", "smoke": True, "offline": True, "seed": seed}
    trajectories, pairs = [], []
    with CallExecutor(pool.session_factory(specs, {})) as executor:
        for index in range(n_sft):
            prompt, continuation = _episode(executor, rng, index)
            trajectories.append(
                Trajectory(
                    trajectory_id=f"smoke-sft-{index}", messages=tuple(prompt + continuation), tools=tools, metadata=meta
                )
            )
        for index in range(n_pairs):
            state = rng.getstate()
            prompt, chosen = _episode(executor, rng, index)
            rng.setstate(state)
            _, rejected = _episode(executor, rng, index, wrong=True)
            pairs.append(
                PreferencePair(
                    pair_id=f"smoke-pair-{index}", prompt=tuple(prompt), chosen=tuple(chosen), rejected=tuple(rejected),
                    tools=tools, differing_turn=1, error_type="wrong_function", reason="smoke: swapped function",
                    metadata=meta,
                )
            )
    return trajectories, pairs


def write_smoke_dataset(root: Path, n_sft: int = 8, n_pairs: int = 8, seed: int = 0) -> Path:
    """Assemble the smoke examples into a dataset version under `root`; returns the version dir.

    Goes through the dataset area's `assemble_dataset` (same Parquet encoding and manifest as factory
    output); dedup, decontamination, plots and mixture sub-sampling are off because the examples are
    deliberately near-identical templates, and the point is to keep all of them.
    """
    from magnet_core.dataset.config import AssembleConfig, DecontamConfig, DedupConfig, MixtureTarget
    from magnet_core.dataset.stage import assemble_dataset

    trajectories, pairs = build_smoke_examples(n_sft, n_pairs, seed)
    config = AssembleConfig(
        root=Path(root),
        mixture=MixtureTarget.ratios(multi_turn=1.0),
        dedup=DedupConfig(enabled=False),
        decontamination=DecontamConfig(enabled=False),
        plots=False,
        seed=seed,
    )
    version = assemble_dataset(trajectories, pairs, [], config)
    if version.counts.get("sft") != n_sft or version.counts.get("preference") != n_pairs:
        raise RuntimeError(f"smoke dataset lost rows: {version.counts} ({version.rejects_by_reason})")
    return version.path
