"""The assemble stage: validated samples -> decontaminated, deduplicated, mixed, versioned Parquet.

Pure in its inputs, config and seed: the version id is a hash of the config and the content of every
input (sorted, so input order does not matter), and an existing complete version with that id is
returned as is, without rewriting a byte.

Memory stays flat in the dataset's size: inputs arrive as batches (one shard each) and are read once
(`intake.py`: hashed, recorded, spilled to a temporary file), selection runs on compact records
(`selection.py`), and the tables stream the chosen rows back from the spill one at a time, the stats
and plots gathered from the same read (each row's facts, `stats.SampleFacts`). A removed sample's reject
payload is the row it would have had, so writing the tables unpickles no sample (only the BFCL export
does). The bytes written are those of the in-memory pipeline this replaced.
"""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from magnet_core.dataset.bfcl_export import BfclExport
from magnet_core.dataset.card import render_card
from magnet_core.dataset.config import AssembleConfig, DatasetVersion, MixtureRow
from magnet_core.dataset.intake import ACCOUNTING_KEYS, Intake, take_in, without_accounting
from magnet_core.dataset.miss_func_rendering import DESCRIPTIONS as RENDERING_DESCRIPTIONS
from magnet_core.dataset.parquet_io import MANIFEST, atomic_version_dir, is_version_dir, read_manifest, write_json, write_table
from magnet_core.dataset.plots import write_plots
from magnet_core.dataset.records import ContaminationCheck, RejectRecord, SampleBatch, SampleRecord
from magnet_core.dataset.rows import reject_columns, reject_row, row_payload_json, sample_payload
from magnet_core.dataset.selection import STEPS, Selection, select
from magnet_core.dataset.spill import Spill, SpillSet
from magnet_core.dataset.stats import Figures, multi_turn_shape
from magnet_core.dataset.text import content_hash
from magnet_core.domain import PreferencePair, Reject, Trajectory
from magnet_core.gc_pause import cyclic_gc_paused

__all__ = ["ACCOUNTING_KEYS", "SampleBatch", "assemble_batches", "assemble_intake", "bfcl_fingerprint", "contamination_check", "assemble_dataset", "without_accounting"]

FORMAT_VERSION = 2  # 2: a removed sample's reject payload is the row it would have had
WriteHook = Callable[[str], None]


def bfcl_fingerprint(config: AssembleConfig) -> str | None:
    if not config.decontamination.enabled:
        return None
    from magnet_core.dataset.bfcl_index import bfcl_data_dir, data_fingerprint

    return data_fingerprint(bfcl_data_dir())


def version_id_for(hashes: dict[str, list[str]], config: AssembleConfig) -> str:
    """`hashes`: content hashes of the inputs (accounting dropped) per kind: trajectories, pairs, rejects."""
    digest = content_hash(
        {
            "format": FORMAT_VERSION,
            "config": config.hashed_part(),
            "bfcl": bfcl_fingerprint(config),
            **{kind: sorted(hashes[kind]) for kind in ("trajectories", "pairs", "rejects")},
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


def _by_reason(rejects: Iterable[RejectRecord]) -> dict[str, int]:
    return dict(sorted(Counter(f"{r.stage}/{r.reason}" for r in rejects).items()))


def assemble_dataset(trajectories: list[Trajectory], pairs: list[PreferencePair], rejects: list[Reject],
                     config: AssembleConfig, *, on_write_step: WriteHook | None = None) -> DatasetVersion:
    """In-memory inputs as one batch (tests, small tools); the pipeline streams shards to `assemble_batches`."""
    return assemble_batches([SampleBatch(trajectories, pairs, rejects)], config, on_write_step=on_write_step)


def assemble_batches(batches: Iterable[SampleBatch], config: AssembleConfig, *,
                     on_write_step: WriteHook | None = None) -> DatasetVersion:
    """`on_write_step(name)` is called after each part is written inside the temporary directory
    (tests use it to simulate a crash mid-write)."""
    contamination_of, index_info = contamination_check(config)
    with Spill(Path(config.root)) as spill:
        intake = take_in(batches, config, spill, contamination_of)
        return assemble_intake(intake, spill, config, index_info, on_write_step=on_write_step)


def assemble_intake(intake: Intake, spill: Spill | SpillSet, config: AssembleConfig, index_info: dict[str, Any], *,
                    on_write_step: WriteHook | None = None) -> DatasetVersion:
    """The dataset from inputs already taken in: here (`assemble_batches`) or per shard (`prepared.py`)."""
    version_id = version_id_for(intake.hashes, config)
    final = Path(config.root) / version_id
    if is_version_dir(final):
        return version_from_manifest(final, read_manifest(final), reused=True)
    with cyclic_gc_paused():  # rows stream through and are freed by reference counting
        return _write(spill, intake, config, version_id, index_info, on_write_step or (lambda name: None))


def contamination_check(config: AssembleConfig) -> tuple[ContaminationCheck | None, dict[str, Any]]:
    """The per-sample BFCL check (None when decontamination is off) and what the manifest says of the index."""
    if not config.decontamination.enabled:
        return None, {}
    from magnet_core.dataset.bfcl_index import load_index
    from magnet_core.dataset.decontaminate import contamination

    index = load_index(config.decontamination.ngram_size, config.cache_dir or Path(config.root) / ".cache")
    settings = config.decontamination
    info = {"fingerprint": index.fingerprint, "files": len(index.files), "question_ngrams": len(index.gram_to_id)}
    return (lambda sample: contamination(sample, index, settings)), info


def _selections(intake: Intake, config: AssembleConfig) -> tuple[Selection, Selection]:
    common = {"decontaminate": config.decontamination.enabled, "dedup": config.dedup, "seed": config.seed}
    return (select(intake.trajectories, mixture=config.mixture, **common),
            select(intake.pairs, mixture=config.preference_mixture, **common))


def _rows(spill: Spill | SpillSet, records: list[SampleRecord], figures: Figures,
          bfcl: BfclExport | None = None) -> Iterator[dict[str, Any]]:
    """The kept rows as made at intake, in record order; their facts go to `figures` on the way (and the
    sample itself, read back only then, to the BFCL export)."""
    for record in records:
        row, facts = spill.get(record.handle)
        figures.add(facts)
        if bfcl is not None:
            bfcl.add(spill.get(record.sample_handle))
        yield row


def _reject_rows(spill: Spill | SpillSet, rejects: list[RejectRecord]) -> Iterator[dict[str, Any]]:
    for r in rejects:
        if r.ready:
            yield spill.get(r.handle)
            continue
        row = spill.get(r.handle)[0]
        if row is not None:
            yield reject_columns(r.stage, r.item_id, r.reason, r.detail, row_payload_json(row))
        else:  # a sample that could not have a row (unknown category, unstorable value): dumped as it is
            payload = sample_payload(spill.get(r.sample_handle))
            yield reject_row(Reject(stage=r.stage, item_id=r.item_id, reason=r.reason, detail=r.detail, payload=payload))


def _write(spill: Spill | SpillSet, intake: Intake, config: AssembleConfig, version_id: str, index_info: dict[str, Any],
           step: WriteHook) -> DatasetVersion:
    sft, preference = _selections(intake, config)
    new_rejects = [r for name in STEPS for r in (*sft.rejects[name], *preference.rejects[name])]
    all_rejects = sorted([*intake.rejects, *new_rejects], key=lambda r: r.sort_key)
    figures = Figures()  # gathered while the tables are written: one read of each kept sample
    with atomic_version_dir(Path(config.root), version_id) as tmp, BfclExport(tmp) if config.export_bfcl else nullcontext() as bfcl:
        write_options = {"row_group_size": config.row_group_size, "rows_per_file": config.rows_per_file}
        files = {"sft": write_table(tmp, "sft", _rows(spill, sft.kept, figures, bfcl), count=len(sft.kept), **write_options)}
        step("sft")
        files["preference"] = write_table(tmp, "preference", _rows(spill, preference.kept, figures), count=len(preference.kept),
                                          **write_options)
        step("preference")
        files["rejects"] = write_table(tmp, "rejects", _reject_rows(spill, all_rejects), count=len(all_rejects), **write_options)
        step("rejects")
        plots = write_plots(tmp, figures) if config.plots else {}
        step("plots")
        if bfcl is not None:
            files["bfcl"] = bfcl.close()
            step("bfcl")
        manifest = _manifest(version_id, config, intake, (sft, preference), all_rejects, figures, index_info)
        manifest.update(files=files, plots=plots)
        (tmp / "README.md").write_text(render_card(manifest), encoding="utf-8")
        step("card")
        write_json(tmp / MANIFEST, manifest)
        step("manifest")
    return version_from_manifest(Path(config.root) / version_id, manifest, reused=False)


def _manifest(version_id: str, config: AssembleConfig, intake: Intake, selections: tuple[Selection, Selection],
              all_rejects: list[RejectRecord], figures: Figures, index_info: dict[str, Any]) -> dict[str, Any]:
    sft, preference = selections
    kept_rows = [*sft.kept, *preference.kept]
    dedup_rejects = [*sft.rejects["dedup"], *preference.rejects["dedup"]]
    return {
        "format": FORMAT_VERSION,
        "version_id": version_id,
        "config": config.hashed_part(),
        "offline": not kept_rows or any(record.offline for record in kept_rows),
        "counts": {"sft": len(sft.kept), "preference": len(preference.kept), "rejects": len(all_rejects)},
        "inputs": {kind: len(hashes) for kind, hashes in intake.hashes.items()},
        "mixture": [row.model_dump() for row in sft.mixture],
        "preference_mixture": [row.model_dump() for row in preference.mixture],
        "rejects_by_reason": _by_reason(all_rejects),
        "dedup": {"removed": len(dedup_rejects), "by_reason": _by_reason(dedup_rejects)},
        "decontamination": {
            "enabled": config.decontamination.enabled,
            "ngram_size": config.decontamination.ngram_size,
            "removed": len(sft.rejects["decontaminate"]) + len(preference.rejects["decontaminate"]),
            "bfcl_index": index_info,
        },
        "stats": figures.stats(),
        "miss_func_rendering": {"mode": config.miss_func_rendering, "description": RENDERING_DESCRIPTIONS[config.miss_func_rendering],
                                "samples": sum(1 for record in kept_rows if record.miss_func_rendered)},
    }
