"""miss_func samples rendered the BFCL prompting way (default) or the function-calling way, by config,
and the choice recorded in the card and the manifest (issue 15)."""

from __future__ import annotations

import pytest

from magnet_core.dataset.card import summary_lines
from magnet_core.dataset.loading import read_preference_pairs, read_trajectories
from magnet_core.dataset.miss_func_rendering import FUNCTION_CALLING_TEXT
from magnet_core.dataset.parquet_io import read_manifest
from magnet_core.dataset.stage import assemble_dataset
from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn, TurnLabel
from magnet_core.roles.announcer import announced_tools


@pytest.fixture(scope="module")
def unlocked(bfcl_pool):
    """[add] [miss_func multiply] [multiply, announced]: translated and distilled offline in the real backends."""
    from magnet_core.distill.stage import DistillConfig, distill
    from magnet_core.translate.stage import TranslateConfig, translate_plans

    plan = Plan(plan_id="unlock", path=FunctionSignaturePath(nodes=("MathAPI.add", "MathAPI.multiply"), seed=0),
                turns=(PlanTurn(functions=("MathAPI.add",)),
                       PlanTurn(label=TurnLabel.MISS_FUNC, withheld_function="MathAPI.multiply"),
                       PlanTurn(functions=("MathAPI.multiply",))), variant="P_prime")
    translated = translate_plans(bfcl_pool, [plan], TranslateConfig(seed=1))
    assert translated.translated, translated.rejects
    result = distill(bfcl_pool, translated.translated, DistillConfig(seed=1))
    assert result.trajectories
    return result.trajectories, result.pairs


def _names(tools) -> list[str]:
    return [tool["function"]["name"] for tool in tools]


def test_prompting_rendering_keeps_the_function_out_of_tools(unlocked, make_config):
    trajectories, pairs = unlocked
    version = assemble_dataset(trajectories, pairs, [], make_config())
    stored = read_trajectories(version.path)
    assert stored
    for sample in stored:
        assert "multiply" not in _names(sample.tools)
        announcing = [i for i, m in enumerate(sample.messages) if m.role == "user" and announced_tools(m.content)]
        assert len(announcing) == 1
        assert sample.metadata["miss_func_rendering"] == "prompting"
        assert sample.metadata["tools_added"] == [{"message_index": announcing[0], "functions": ["multiply"]}]
    manifest = read_manifest(version.path)
    assert manifest["miss_func_rendering"]["mode"] == "prompting" and manifest["miss_func_rendering"]["samples"] >= len(stored)
    assert any(line.startswith("miss_func rendering: prompting") for line in summary_lines(manifest))


def test_function_calling_rendering_adds_the_function_to_tools(unlocked, make_config):
    trajectories, pairs = unlocked
    prompting = assemble_dataset(trajectories, pairs, [], make_config())
    version = assemble_dataset(trajectories, pairs, [], make_config(miss_func_rendering="function_calling"))
    assert version.version_id != prompting.version_id  # the rendering is part of what a version is
    stored = read_trajectories(version.path)
    assert stored
    for sample in stored:
        assert _names(sample.tools)[-1] == "multiply"  # appended, as BFCL's function-calling mode extends the list
        assert not any(announced_tools(m.content) for m in sample.messages if m.role == "user")
        [added] = sample.metadata["tools_added"]
        assert added["functions"] == ["multiply"]
        announcement = sample.messages[added["message_index"]]
        assert announcement.role == "user" and announcement.content in FUNCTION_CALLING_TEXT
        first_call = min(i for i, m in enumerate(sample.messages) for c in m.tool_calls if c.function.name == "multiply")
        assert first_call > added["message_index"]  # offered from the announcement on, called after it
        assert sample.metadata["miss_func_rendering"] == "function_calling"
    stored_pairs = read_preference_pairs(version.path)
    for pair in stored_pairs:  # a pair's prompt, chosen and rejected are rendered the same way
        assert not any(announced_tools(m.content) for m in (*pair.prompt, *pair.chosen, *pair.rejected) if m.role == "user")
        # A pair that parts before the announcement never offers the function; one that reaches it does.
        assert ("multiply" in _names(pair.tools)) == (pair.metadata.get("miss_func_rendering") == "function_calling")
    manifest = read_manifest(version.path)
    assert manifest["miss_func_rendering"]["mode"] == "function_calling"
    card = (version.path / "README.md").read_text(encoding="utf-8")
    assert "miss_func rendering: function_calling" in card and "BFCL function-calling mode" in card


def test_a_pair_that_reaches_the_announcement_is_rendered_in_every_part(unlocked):
    from magnet_core.dataset.miss_func_rendering import render_pair
    from magnet_core.domain import PreferencePair

    sample = unlocked[0][0]
    at = next(i for i, m in enumerate(sample.messages) if m.role == "user" and announced_tools(m.content))
    pair = PreferencePair(pair_id="p", prompt=sample.messages[:at], chosen=sample.messages[at:], rejected=sample.messages[at:at + 2],
                          tools=sample.tools, differing_turn=2, error_type="x", reason="y")
    assert render_pair(pair, "prompting").tools == pair.tools
    rendered = render_pair(pair, "function_calling")
    assert _names(rendered.tools) == [*_names(pair.tools), "multiply"]
    assert rendered.chosen[0].content in FUNCTION_CALLING_TEXT and rendered.rejected[0].content == rendered.chosen[0].content
    assert [item["part"] for item in rendered.metadata["tools_added"]] == ["chosen", "rejected"]
    assert rendered.prompt == pair.prompt
