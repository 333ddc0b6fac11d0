"""The dataset card (README.md, Hugging Face style) and the summary `magnet inspect` prints.

Both are rendered from the manifest alone, so inspecting a version never needs to reread its
Parquet files, and the card says exactly what the manifest records.
"""

from __future__ import annotations

from typing import Any

import yaml

from magnet_core.dataset.stats import multi_turn_shape

OFFLINE_NOTICE = "generated with the offline default roles, no teacher model"


def _yaml_header(manifest: dict[str, Any]) -> str:
    header = {
        "configs": [
            {"config_name": "sft", "data_files": [{"split": "train", "path": "sft/*.parquet"}], "default": True},
            {"config_name": "preference", "data_files": [{"split": "train", "path": "preference/*.parquet"}]},
            {"config_name": "rejects", "data_files": [{"split": "train", "path": "rejects/*.parquet"}]},
        ],
        "license": "other",
        "license_name": "to-be-decided",
        "pretty_name": f"Magnet Factory function-calling data {manifest['version_id']}",
        "tags": ["function-calling", "tool-use", "multi-turn", "synthetic", "magnet"] + (["offline-default"] if manifest["offline"] else []),
        "task_categories": ["text-generation"],
    }
    return "---\n" + yaml.safe_dump(header, sort_keys=False) + "---\n"


def _mixture_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| category | available | target | target share | achieved | achieved share | surplus | shortfall | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        lines.append(
            f"| {row['category']} | {row['available']} | {row['target_count']:g} | {row['target_share']:.1%} "
            f"| {row['achieved']} | {row['achieved_share']:.1%} | {row.get('surplus', 0)} | {row.get('shortfall', 0)} | {row['note']} |"
        )
    return lines


def _describe(name: str, figures: dict[str, float]) -> str:
    return f"| {name} | {figures['count']} | {figures['mean']:.2f} | {figures['median']:g} | {figures['min']:g} | {figures['max']:g} |"


def summary_lines(manifest: dict[str, Any]) -> list[str]:
    """The short form: what `magnet inspect` prints and the card opens with."""
    counts, stats = manifest["counts"], manifest["stats"]
    lines = [f"dataset version {manifest['version_id']}"]
    if manifest["offline"]:
        lines.append(f"[offline] {OFFLINE_NOTICE} ({stats['offline_rows']} offline rows)")
    else:
        lines.append("teacher-generated (offline: false)")
    lines.append(f"rows: sft {counts['sft']}, preference {counts['preference']}, rejects {counts['rejects']}")
    lines.append(f"source pools: {', '.join(f'{k} ({v})' for k, v in stats['source_pools'].items()) or 'none'}")
    for part, key in (("sft", "mixture"), ("preference", "preference_mixture")):
        if not manifest.get(key):
            continue
        lines.append(f"mixture ({part}), target vs achieved:")
        for row in manifest[key]:
            note = f"  [{row['note']}]" if row["note"] else ""
            lines.append(
                f"  {row['category']:<12} target {row['target_count']:>9.1f} ({row['target_share']:.1%})"
                f"  achieved {row['achieved']:>6} ({row['achieved_share']:.1%}){note}"
            )
    turns, calls = stats["turns_per_sample"], stats["calls_per_turn"]
    lines.append(f"turns/sample mean {turns['mean']:.2f} (max {turns['max']:g}); calls/turn mean {calls['mean']:.2f}")
    if manifest.get("miss_func_rendering"):
        rendering = manifest["miss_func_rendering"]
        lines.append(f"miss_func rendering: {rendering['mode']} ({rendering['samples']} samples): {rendering['description']}")
    shape = multi_turn_shape(stats)
    lines.append(f"multi-turn samples ({shape['samples']}): turns mean {shape['turns']:.2f}, calls mean {shape['calls']:.2f} "
                 f"(paper: {shape['paper_turns']} turns, {shape['paper_calls']} calls)")
    lines.append("rejects by stage/reason:" if manifest["rejects_by_reason"] else "rejects: none")
    lines += [f"  {key:<40} {value}" for key, value in manifest["rejects_by_reason"].items()]
    return lines


# Several sources under one role mean rows differ (e.g. call values read by a call-writer model beside the
# offline drafts that irrelevance queries state).
MODELS_LEGEND = ("A model string: that model wrote the role's text; `offline`: the role's offline implementation (rules, no "
                 "model); `template`: fixed template text. A role lists every source found in the rows; each row's own "
                 "sources are in `metadata.models`.")


def render_card(manifest: dict[str, Any]) -> str:
    stats = manifest["stats"]
    out = [_yaml_header(manifest), f"# Magnet Factory function-calling dataset `{manifest['version_id']}`", ""]
    if manifest["offline"]:
        out += [f"> **Offline dataset: {OFFLINE_NOTICE}.** Rows marked `offline: true` came from the offline default roles.", ""]
    out += ["Multi-turn function-calling data synthesised with the Magnet method (graph-based plans, back-and-forth",
            "translation, hint distillation), mixed with single-turn and irrelevance samples.", "",
            "## Summary", "", "```", *summary_lines(manifest), "```", "",
            "## What was generated", "",
            f"- SFT rows: {manifest['counts']['sft']} (`sft/`, chat format: `messages` + `tools`)",
            f"- Preference pairs: {manifest['counts']['preference']} (`preference/`: `prompt`, `chosen`, `rejected`, `tools`)",
            f"- Rejected items: {manifest['counts']['rejects']} (`rejects/`, with stage, reason and the full item)",
            f"- Offline: `{str(manifest['offline']).lower()}`; seed: {manifest['config']['seed']}",
            f"- Source pools: {', '.join(stats['source_pools']) or 'none'}", "",
            "Models by role:", ""]
    out += [f"- {role}: {', '.join(models)}" for role, models in stats["models"].items()] or ["- none recorded"]
    out += ["", MODELS_LEGEND]
    out += ["", "Prompt versions by role:", ""]
    out += [f"- {role}: {', '.join(v)}" for role, v in stats["prompt_versions"].items()] or ["- none recorded"]
    out += ["", "## Mixture (SFT)", "", *_mixture_table(manifest["mixture"]), ""]
    if manifest.get("preference_mixture"):
        out += ["## Mixture (preference)", "", *_mixture_table(manifest["preference_mixture"]), ""]
    out += ["## Statistics", "", "| figure | count | mean | median | min | max |", "|---|---:|---:|---:|---:|---:|",
            _describe("turns per sample", stats["turns_per_sample"]),
            _describe("turns per multi-turn sample", stats["multi_turn_turns_per_sample"]),
            *([_describe("calls per multi-turn sample", stats["multi_turn_calls_per_sample"])] if "multi_turn_calls_per_sample" in stats else []),
            _describe("calls per sample", stats["calls_per_sample"]),
            _describe("calls per turn", stats["calls_per_turn"]), "",
            "Cost: not part of the data (teacher spending is in the run's LLM ledger), so a resumed or cached "
            "re-run writes the same version.", "",
            "Node operations: " + (", ".join(f"{k} {v}" for k, v in stats["node_operations"].items()) or "none"), "",
            "## Rejects by stage and reason", ""]
    if manifest["rejects_by_reason"]:
        out += ["| stage/reason | count |", "|---|---:|", *[f"| {k} | {v} |" for k, v in manifest["rejects_by_reason"].items()]]
    else:
        out.append("None.")
    decontam = manifest["decontamination"]
    out += ["", f"Deduplication removed {manifest['dedup']['removed']}; decontamination against the BFCL test sets "
            + (f"removed {decontam['removed']} ({decontam['ngram_size']}-gram question overlap and identical call sequences)."
               if decontam["enabled"] else "was switched off."), ""]
    if manifest.get("plots"):
        out += ["## Plots", ""] + [f"![{name}]({path})" for name, path in manifest["plots"].items()] + [""]
    out += ["## Loading", "", "```python", "import datasets",
            'sft = datasets.load_dataset("parquet", data_dir="sft", split="train")',
            "from magnet_core.dataset.loading import load_sft_dataset, load_preference_dataset",
            "```", ""]
    return "\n".join(out)
