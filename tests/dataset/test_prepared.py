"""Issue 12: shards prepared apart (records + spilled rows on disk, as the per-shard intake task writes them)
assemble to the very bytes of the in-process intake, and the sizing measure reads the same counts from them."""

from __future__ import annotations

from magnet_core.dataset import sizing
from magnet_core.dataset.prepared import load_prepared, prepare_shard
from magnet_core.dataset.records import SampleBatch
from magnet_core.dataset.stage import assemble_batches, assemble_intake, contamination_check
from tests.dataset.test_streaming import _files, _in_batches, _inputs


def _prepare_all(batches: list[SampleBatch], config, directory) -> list:
    contamination_of, info = contamination_check(config)
    paths = []
    for number, batch in enumerate(batches):
        path = directory / f"shard-{number}"
        prepare_shard(batch, path, mode=config.miss_func_rendering, dedup=config.dedup, contamination_of=contamination_of,
                      index_info=info)
        paths.append(path)
    return paths


def test_prepared_shards_assemble_to_the_bytes_of_the_in_process_intake(build, make_config, tmp_path):
    samples, pairs, rejects = _inputs(build)
    settings = {"plots": True, "export_bfcl": True, "row_group_size": 2, "rows_per_file": 5}
    batches = _in_batches(samples, pairs, rejects, 3, seed=2)
    direct = assemble_batches(batches, make_config(root=tmp_path / "direct", **settings))
    config = make_config(root=tmp_path / "prepared", **settings)
    merged = load_prepared(_prepare_all(batches, config, tmp_path / "shards"))
    with merged.spill:
        prepared = assemble_intake(merged.intake, merged.spill, config, merged.index_info)
    assert prepared.version_id == direct.version_id and not prepared.reused
    assert _files(prepared.path) == _files(direct.path)
    assert direct.rejects_by_reason["assemble/unserializable"] == 1  # the NaN sample went through the shard files too


def test_sizing_measure_from_prepared_records_matches_the_sample_measure(build, make_config, tmp_path):
    samples, pairs, _ = _inputs(build)
    batches = _in_batches(samples, pairs, [], 4, seed=3)
    config = make_config()
    merged = load_prepared(_prepare_all(batches, config, tmp_path / "shards"))
    merged.spill.close()
    measured = sizing.counts_of_records(merged.intake.trajectories, merged.intake.pairs, config.dedup)
    assert measured == sizing.available_counts(batches, config.dedup, config.miss_func_rendering)
    assert measured[0]["multi_turn"] == 12 + 1
