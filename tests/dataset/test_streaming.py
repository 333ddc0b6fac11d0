"""Issue 12: assembly streams its inputs and its output; how the inputs are cut up never changes a byte."""

from __future__ import annotations

import hashlib
import random
import weakref

from magnet_core.dataset import sizing
from magnet_core.dataset.records import SampleBatch
from magnet_core.dataset.spill import Spill
from magnet_core.dataset.stage import assemble_batches, assemble_dataset
from magnet_core.domain import FunctionCall, Reject, Trajectory


def _inputs(build):
    samples = build.pool({"single": 9, "parallel": 5, "multiple": 6, "multi_turn": 12, "irrelevance": 5})
    words = build.distinct_query(900).split()
    samples += [
        samples[3].model_copy(update={"trajectory_id": "zz-exact"}),  # dedup: exact copy of another id
        build.trajectory("zz-near", "multi_turn", [" ".join(words[:-1] + ["changed"])]),
        build.trajectory("aa-near", "multi_turn", [" ".join(words)]),
        samples[5].model_copy(update={"metadata": {**samples[5].metadata, "category": "single"}}),  # repeated id
        build.trajectory("bad-nan", "single", [build.distinct_query(2)], [[FunctionCall(name="cd", arguments={"x": float("nan")})]]),
        build.trajectory("bad-category", "chit_chat", [build.distinct_query(3)]),
    ]
    pairs = [build.pair(f"pair-{i:02d}", ["single", "multi_turn", "irrelevance"][i % 3]) for i in range(9)]
    rejects = [Reject(stage="distill", item_id=f"scn-{i}", reason="verification_failed", detail=f"turn {i % 2}", payload={"i": i})
               for i in range(7)]
    return samples, pairs, rejects


def _files(path) -> dict[str, str]:
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.rglob("*")) if p.is_file()}


def _in_batches(samples, pairs, rejects, size: int, seed: int) -> list[SampleBatch]:
    count = max(len(samples), len(pairs), len(rejects))
    batches = [SampleBatch(samples[i : i + size], pairs[i : i + size], rejects[i : i + size]) for i in range(0, count, size)]
    random.Random(seed).shuffle(batches)
    return batches


def test_batches_of_two_write_the_same_bytes_as_one_batch(build, make_config, tmp_path):
    samples, pairs, rejects = _inputs(build)
    settings = {"plots": True, "export_bfcl": True, "row_group_size": 2, "rows_per_file": 5}
    whole = assemble_dataset(samples, pairs, rejects, make_config(root=tmp_path / "whole", **settings))
    streamed = assemble_batches(_in_batches(samples, pairs, rejects, 2, seed=4), make_config(root=tmp_path / "streamed", **settings))
    assert streamed.version_id == whole.version_id and not streamed.reused
    assert _files(streamed.path) == _files(whole.path)
    reasons = whole.rejects_by_reason
    assert reasons["dedup/duplicate_exact"] >= 1 and reasons["dedup/duplicate_near"] == 1
    assert reasons["assemble/duplicate_id"] == 1 and reasons["assemble/unserializable"] == 1
    assert reasons["assemble/unknown_category"] == 1 and reasons["distill/verification_failed"] == 7
    assert whole.counts["rejects"] == sum(reasons.values())
    # every input is a row or a reject: none is dropped silently
    assert whole.counts["sft"] + whole.counts["preference"] + whole.counts["rejects"] == len(samples) + len(pairs) + len(rejects)


def test_sizing_measure_is_the_same_in_batches(build):
    samples, pairs, _ = _inputs(build)
    whole = sizing.available_counts([SampleBatch(samples, pairs)], build.dedup())
    assert sizing.available_counts(_in_batches(samples, pairs, [], 3, seed=1), build.dedup()) == whole
    assert whole[0]["multi_turn"] == 12 + 1  # one of the near pair, not the exact copy


class _Tracked:
    """Weak references to objects (frozen pydantic models are not hashable, so no WeakSet)."""

    def __init__(self) -> None:
        self.refs: list[weakref.ref] = []

    def add(self, item: object) -> None:
        self.refs.append(weakref.ref(item))

    def alive(self) -> int:
        self.refs = [ref for ref in self.refs if ref() is not None]
        return len(self.refs)


def test_assembly_holds_one_batch_of_samples_and_reads_back_one_row_at_a_time(build, make_config, monkeypatch):
    """Samples of earlier batches are gone by the time the next batch is read; the write reads the spill one
    sample at a time. (Samples have no reference cycles, so they die as soon as nothing refers to them.)"""
    inputs, read_back = _Tracked(), _Tracked()
    peak = {"input": 0, "read_back": 0}
    get = Spill.get

    def counting_get(self, handle):
        item = get(self, handle)
        if isinstance(item, Trajectory):  # read back for the BFCL export; rows come back as (row, facts)
            read_back.add(item)
            peak["read_back"] = max(peak["read_back"], read_back.alive())
        return item

    monkeypatch.setattr(Spill, "get", counting_get)

    def batches():
        for start in range(0, 40, 4):
            batch = [t.model_copy(update={"trajectory_id": f"{t.trajectory_id}-{start}"})
                     for t in build.pool({"single": 4, "multi_turn": 4})[start % 8 : start % 8 + 4]]
            peak["input"] = max(peak["input"], inputs.alive())
            for sample in batch:
                inputs.add(sample)
            yield SampleBatch(trajectories=batch)
            del batch, sample

    version = assemble_batches(batches(), make_config(plots=True, export_bfcl=True, row_group_size=2,
                                                      decontamination={"enabled": False}))
    assert version.counts["sft"] > 4
    assert peak["input"] == 0  # no sample of an earlier batch was alive when the next one was made
    assert peak["read_back"] <= 2  # the write streams: the sample in hand and the next (a for loop holds the last)


def test_spill_gives_back_what_was_put_even_when_it_cannot_be_pickled(tmp_path):
    class Local:  # a local class cannot be pickled: it stays in memory under its handle
        pass

    local = Local()
    with Spill(tmp_path) as spill:
        handles = [spill.put({"n": float("nan"), "text": "ünï"}), spill.put(local), spill.put([1, (2, 3)])]
        assert spill.get(handles[2]) == [1, (2, 3)] and spill.get(handles[1]) is local
        assert spill.get(handles[0])["text"] == "ünï" and len(spill) == 3
    assert list(tmp_path.iterdir()) == []  # the spill file was never visible
