"""The card, `magnet inspect` and the stage result report mean turns and calls per multi-turn sample
beside the paper's (4.71 turns, 15.1 calls)."""

from __future__ import annotations

from magnet_core.dataset.card import summary_lines
from magnet_core.dataset.parquet_io import read_manifest
from magnet_core.dataset.stage import assemble_dataset
from magnet_core.domain import FunctionCall


def test_multi_turn_turns_and_calls_are_reported(build, make_config):
    call = lambda i: FunctionCall(name="cd", arguments={"folder": f"d{i}"})  # noqa: E731
    # Two multi-turn samples: 2 turns / 3 calls and 4 turns / 5 calls -> means 3 turns, 4 calls.
    multi = [build.trajectory("mt-a", "multi_turn", [build.distinct_query(1), build.distinct_query(2)], [[call(1)], [call(2), call(3)]]),
             build.trajectory("mt-b", "multi_turn", [build.distinct_query(n) for n in (3, 4, 5, 6)],
                              [[call(4)], [call(5), call(6)], [call(7)], [call(8)]])]
    single = build.pool({"single": 3})
    version = assemble_dataset([*multi, *single], [], [], make_config())
    assert version.multi_turn_shape == {"samples": 2, "turns": 3.0, "calls": 4.0, "paper_turns": 4.71, "paper_calls": 15.1}
    manifest = read_manifest(version.path)
    assert manifest["stats"]["multi_turn_calls_per_sample"]["mean"] == 4.0
    assert "multi-turn samples (2): turns mean 3.00, calls mean 4.00 (paper: 4.71 turns, 15.1 calls)" in summary_lines(manifest)
    card = (version.path / "README.md").read_text(encoding="utf-8")
    assert "| calls per multi-turn sample | 2 | 4.00 |" in card
