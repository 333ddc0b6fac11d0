"""One flow per stage. Each runs the pipeline up to its stage: upstream stages come from the cache, so a
stage launched alone from the UI needs no hand-made inputs and computes only what is missing."""

from __future__ import annotations

from typing import Any

from prefect import flow

from flows.configs import PipelineConfig
from flows.pipeline import run_pipeline


@flow(name="magnet-pool", description="Load the function pool and report it.")
def pool_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="pool")


@flow(name="magnet-graph", description="Build the local dependency graph of the pool.")
def graph_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="graph")


@flow(name="magnet-plans", description="Random walks + node operations -> plans P and P'.")
def plans_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="plans")


@flow(name="magnet-translate", description="Back-and-forth translation of plans, sharded.")
def translate_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="translate")


@flow(name="magnet-distill", description="Context distillation (positive + preference pairs) and single-turn samples, sharded.")
def distill_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="distill")


@flow(name="magnet-assemble", description="Dedup, decontaminate, mix and version the dataset.")
def assemble_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="assemble")


@flow(name="magnet-train-sft", description="SFT on the assembled dataset.")
def train_sft_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="train_sft")


@flow(name="magnet-train-mdpo", description="mDPO from the SFT checkpoint.")
def train_mdpo_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="train_mdpo")


@flow(name="magnet-evaluate", description="BFCL multi-turn evaluation of the trained checkpoint.")
def evaluate_flow(config: PipelineConfig = PipelineConfig()) -> dict[str, Any]:
    return run_pipeline(config, until="evaluate")


STAGE_FLOWS = {
    "pool": pool_flow, "graph": graph_flow, "plans": plans_flow, "translate": translate_flow, "distill": distill_flow,
    "assemble": assemble_flow, "train_sft": train_sft_flow, "train_mdpo": train_mdpo_flow,
    "evaluate": evaluate_flow,
}
