"""The assemble stage: validated samples -> decontaminated, deduplicated, mixed, versioned Parquet.

Pure in its inputs, config and seed: the version id is a hash of the config and the content of every
input (sorted, so input order does not matter), and an existing complete version with that id is
returned as is, without rewriting a byte.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable, Sequence

from magnet_core.dataset.bfcl_export import export_bfcl
from magnet_core.dataset.card import render_card
from magnet_core.dataset.config import CATEGORIES, AssembleConfig, DatasetVersion, MixtureRow
from magnet_core.dataset.dedup import deduplicate
from magnet_core.dataset.miss_func_rendering import DESCRIPTIONS as RENDERING_DESCRIPTIONS
from magnet_core.dataset.miss_func_rendering import render_pair, render_trajectory
from magnet_core.dataset.mixture import apply_mixture, category_of
from magnet_core.dataset.parquet_io import MANIFEST, atomic_version_dir, is_version_dir, read_manifest, write_json, write_table
from magnet_core.dataset.plots import write_plots
from magnet_core.dataset.rows import preference_row, reject_row, sample_payload, sft_row
from magnet_core.dataset.stats import dataset_stats, multi_turn_shape
from magnet_core.dataset.text import content_hash, sample_id
from magnet_core.domain import PreferencePair, Reject, Trajectory

STAGE = "assemble"
FORMAT_VERSION = 1
# Accounting, not data: what a row cost depends on the cache (a hit costs 0) and on prices, so it never
# enters the rows or the version id; spending lives in the LLM ledger.
ACCOUNTING_KEYS = ("cost_usd", "rejected_cost_usd")
WriteHook = Callable[[str], None]


def _validated(samples: Sequence, row_of: Callable) -> tuple[list, list[Reject]]:
    """Unknown categories, repeated ids and unstorable values (NaN) become rejects, never nulls."""
    kept, rejects, seen = [], [], set()
    for sample in sorted(samples, key=lambda s: (sample_id(s), content_hash(s.model_dump(mode="json")))):
        reason, detail = None, ""
        if category_of(sample) not in CATEGORIES:
            reason, detail = "unknown_category", f"metadata.category={sample.metadata.get('category')!r}; known: {', '.join(CATEGORIES)}"
        elif sample_id(sample) in seen:
            reason, detail = "duplicate_id", "another sample with this id and different content came first"
        else:
            try:
                row_of(sample)
            except (TypeError, ValueError) as error:
                reason, detail = "unserializable", str(error)[:500]
        if reason is None:
            seen.add(sample_id(sample))
            kept.append(sample)
        else:
            rejects.append(Reject(stage=STAGE, item_id=sample_id(sample), reason=reason, detail=detail, payload=sample_payload(sample)))
    return kept, rejects


def _bfcl_fingerprint(config: AssembleConfig) -> str | None:
    if not config.decontamination.enabled:
        return None
    from magnet_core.dataset.bfcl_index import bfcl_data_dir, data_fingerprint

    return data_fingerprint(bfcl_data_dir())


def without_accounting(sample):
    """The sample without cost fields, so the version depends only on the data (see ACCOUNTING_KEYS)."""
    if not any(key in sample.metadata for key in ACCOUNTING_KEYS):
        return sample
    return sample.model_copy(update={"metadata": {k: v for k, v in sample.metadata.items() if k not in ACCOUNTING_KEYS}})


def version_id_for(trajectories: Sequence[Trajectory], pairs: Sequence[PreferencePair], rejects: Sequence[Reject], config: AssembleConfig) -> str:
    digest = content_hash(
        {
            "format": FORMAT_VERSION,
            "config": config.hashed_part(),
            "bfcl": _bfcl_fingerprint(config),
            "trajectories": sorted(content_hash(t.model_dump(mode="json")) for t in trajectories),
            "pairs": sorted(content_hash(p.model_dump(mode="json")) for p in pairs),
            "rejects": sorted(content_hash(r.model_dump(mode="json")) for r in rejects),
        }
    )
    return f"v{digest[:16]}"


def version_from_manifest(path: Path, manifest: dict[str, Any], reused: bool) -> DatasetVersion:
    return DatasetVersion(
        version_id=manifest["version_id"],
        path=path,
        reused=reused,
        offline=manifest["offline"],
        counts=manifest["counts"],
        mixture=tuple(MixtureRow(**row) for row in manifest["mixture"]),
        preference_mixture=tuple(MixtureRow(**row) for row in manifest.get("preference_mixture") or ()),
        rejects_by_reason=manifest["rejects_by_reason"],
        multi_turn_shape=multi_turn_shape(manifest["stats"]),
    )


def _by_reason(rejects: list[Reject]) -> dict[str, int]:
    return dict(sorted(Counter(f"{r.stage}/{r.reason}" for r in rejects).items()))


def assemble_dataset(
    trajectories: list[Trajectory],
    pairs: list[PreferencePair],
    rejects: list[Reject],
    config: AssembleConfig,
    *,
    on_write_step: WriteHook | None = None,
) -> DatasetVersion:
    """`on_write_step(name)` is called after each part is written inside the temporary directory
    (tests use it to simulate a crash mid-write)."""
    trajectories = [without_accounting(t) for t in trajectories]
    pairs = [without_accounting(p) for p in pairs]
    version_id = version_id_for(trajectories, pairs, rejects, config)
    final = Path(config.root) / version_id
    if is_version_dir(final):
        return version_from_manifest(final, read_manifest(final), reused=True)

    trajectories = [render_trajectory(t, config.miss_func_rendering) for t in trajectories]
    pairs = [render_pair(p, config.miss_func_rendering) for p in pairs]
    kept_t, new_rejects = _validated(trajectories, sft_row)
    kept_p, pair_rejects = _validated(pairs, preference_row)
    new_rejects += pair_rejects
    decontam_removed = 0
    index_info: dict[str, Any] = {}
    if config.decontamination.enabled:
        from magnet_core.dataset.bfcl_index import load_index
        from magnet_core.dataset.decontaminate import decontaminate

        index = load_index(config.decontamination.ngram_size, config.cache_dir or Path(config.root) / ".cache")
        kept_t, dropped_t = decontaminate(kept_t, index, config.decontamination)
        kept_p, dropped_p = decontaminate(kept_p, index, config.decontamination)
        decontam_removed = len(dropped_t) + len(dropped_p)
        new_rejects += dropped_t + dropped_p
        index_info = {"fingerprint": index.fingerprint, "files": len(index.files), "question_ngrams": len(index.gram_to_id)}
    kept_t, dup_t = deduplicate(kept_t, config.dedup)
    kept_p, dup_p = deduplicate(kept_p, config.dedup)
    new_rejects += dup_t + dup_p
    kept_t, surplus_t, mixture = apply_mixture(kept_t, config.mixture, config.seed)
    new_rejects += surplus_t
    preference_mixture: tuple[MixtureRow, ...] = ()
    if config.preference_mixture is not None:
        kept_p, surplus_p, preference_mixture = apply_mixture(kept_p, config.preference_mixture, config.seed)
        new_rejects += surplus_p
    kept_t.sort(key=sample_id)
    kept_p.sort(key=sample_id)
    all_rejects = sorted([*rejects, *new_rejects], key=lambda r: (r.stage, r.item_id, r.reason, r.detail))

    kept_rows = [*kept_t, *kept_p]
    offline = not kept_rows or any(row.metadata.get("offline", True) for row in kept_rows)
    step = on_write_step or (lambda name: None)
    with atomic_version_dir(Path(config.root), version_id) as tmp:
        write_options = {"row_group_size": config.row_group_size, "rows_per_file": config.rows_per_file}
        files = {"sft": write_table(tmp, "sft", map(sft_row, kept_t), count=len(kept_t), **write_options)}
        step("sft")
        files["preference"] = write_table(tmp, "preference", map(preference_row, kept_p), count=len(kept_p),
                                          **write_options)
        step("preference")
        files["rejects"] = write_table(tmp, "rejects", map(reject_row, all_rejects), count=len(all_rejects),
                                       **write_options)
        step("rejects")
        plots = write_plots(tmp, kept_t) if config.plots else {}
        step("plots")
        if config.export_bfcl:
            files["bfcl"] = export_bfcl(tmp, kept_t)
            step("bfcl")
        manifest = {
            "format": FORMAT_VERSION,
            "version_id": version_id,
            "config": config.hashed_part(),
            "offline": offline,
            "counts": {"sft": len(kept_t), "preference": len(kept_p), "rejects": len(all_rejects)},
            "inputs": {"trajectories": len(trajectories), "pairs": len(pairs), "rejects": len(rejects)},
            "mixture": [row.model_dump() for row in mixture],
            "preference_mixture": [row.model_dump() for row in preference_mixture],
            "rejects_by_reason": _by_reason(all_rejects),
            "dedup": {"removed": len(dup_t) + len(dup_p), "by_reason": _by_reason(dup_t + dup_p)},
            "decontamination": {
                "enabled": config.decontamination.enabled,
                "ngram_size": config.decontamination.ngram_size,
                "removed": decontam_removed,
                "bfcl_index": index_info,
            },
            "stats": dataset_stats(kept_t, kept_p),
            "miss_func_rendering": {"mode": config.miss_func_rendering, "description": RENDERING_DESCRIPTIONS[config.miss_func_rendering],
                                    "samples": sum(1 for row in kept_rows if row.metadata.get("miss_func_rendering"))},
            "files": files,
            "plots": plots,
        }
        (tmp / "README.md").write_text(render_card(manifest), encoding="utf-8")
        step("card")
        write_json(tmp / MANIFEST, manifest)
        step("manifest")
    return version_from_manifest(final, manifest, reused=False)
