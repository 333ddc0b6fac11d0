"""Hand-built domain objects for the dataset tests (no generator involved)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from magnet_core.dataset import AssembleConfig, DedupConfig, MixtureTarget
from magnet_core.domain import ChatMessage, FunctionCall, PreferencePair, ToolCall, Trajectory

TOOLS = (
    {
        "type": "function",
        "function": {
            "name": "book_trip",
            "description": "Book a trip; `options` is optional and nested.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "dates": {"type": "array", "items": {"type": "string"}},
                    "options": {
                        "type": "object",
                        "properties": {"seat": {"type": "string"}, "meals": {"type": "array", "items": {"type": "object"}}},
                    },
                },
                "required": ["city"],
            },
        },
    },
    {"type": "function", "function": {"name": "cd", "description": "Change directory.", "parameters": {"type": "object", "properties": {"folder": {"type": "string"}}, "required": ["folder"]}}},
)


def metadata(category: str, **extra: Any) -> dict[str, Any]:
    data = {
        "category": category,
        "plan_id": f"plan-{category}",
        "node_operations": [{"kind": "merge", "turn_index": 0, "functions": ["book_trip", "cd"], "detail": "merged two steps"}],
        "source_pool": "bfcl",
        "initial_state": {
            "GorillaFileSystem": {"root": {"home": {"type": "directory", "contents": {"notes.txt": {"type": "file", "content": "ünï"}}}}},
            "TwitterAPI": {"username": "alice", "password": "alice-backend-pw", "tweets": {}},
        },
        "models": {"translator": "offline", "distiller": "offline"},
        "offline": True,
        "seed": 7,
        "cost_usd": 0.0,
        "prompt_versions": {"translator": "translator@1"},
    }
    data.update(extra)
    return data


def trajectory(sample_id: str, category: str, queries: list[str], calls: list[list[FunctionCall]] | None = None, **meta: Any) -> Trajectory:
    """One user turn per query; each turn's calls in one assistant message, each answered by a tool message."""
    calls = calls if calls is not None else [[FunctionCall(name="cd", arguments={"folder": f"dir{i}"})] for i in range(len(queries))]
    messages: list[ChatMessage] = [ChatMessage(role="system", content="You are a helpful assistant.")]
    for turn, query in enumerate(queries):
        messages.append(ChatMessage(role="user", content=query))
        turn_calls = calls[turn] if turn < len(calls) else []
        if turn_calls:
            tool_calls = tuple(ToolCall(id=f"call_{turn}_{i}", function=call) for i, call in enumerate(turn_calls))
            messages.append(ChatMessage(role="assistant", content=None, tool_calls=tool_calls))
            messages += [ChatMessage(role="tool", content='{"ok": true}', tool_call_id=c.id, name=c.function.name) for c in tool_calls]
        messages.append(ChatMessage(role="assistant", content=f"Done with step {turn}."))
    return Trajectory(trajectory_id=sample_id, messages=tuple(messages), tools=TOOLS, scenario_id=f"scn-{sample_id}", metadata=metadata(category, **meta))


WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu".split()


def distinct_query(number: int) -> str:
    """Queries that share no word trigram with each other (so dedup keeps them all)."""
    picked = [WORDS[(number * 7 + k * 3) % len(WORDS)] + str(number) for k in range(9)]
    return "Please handle request " + " ".join(picked)


def pool(counts: dict[str, int]) -> list[Trajectory]:
    out = []
    for category, count in sorted(counts.items()):
        for i in range(count):
            number = len(out)
            out.append(trajectory(f"{category}-{i:04d}", category, [distinct_query(number)], [[FunctionCall(name="cd", arguments={"folder": f"f{number}"})]]))
    return out


def pair(pair_id: str, category: str = "multi_turn") -> PreferencePair:
    prompt = (ChatMessage(role="system", content="sys"), ChatMessage(role="user", content=f"Go to folder for pair {pair_id} — ünïcode ✓"))
    good = ToolCall(id="c0", function=FunctionCall(name="book_trip", arguments={"city": "Zürich", "options": {"meals": [{"kind": "veg"}, {}]}}))
    bad = ToolCall(id="c0", function=FunctionCall(name="book_trip", arguments={"city": "Zurich"}))
    return PreferencePair(
        pair_id=pair_id,
        prompt=prompt,
        chosen=(ChatMessage(role="assistant", tool_calls=(good,)),),
        rejected=(ChatMessage(role="assistant", tool_calls=(bad,)),),
        tools=TOOLS,
        differing_turn=0,
        error_type="missing_nested_call",
        reason="forgot the meal options",
        scenario_id="scn-pair",
        metadata=metadata(category),
    )


@pytest.fixture(scope="session")
def index_cache(tmp_path_factory) -> Any:
    return tmp_path_factory.mktemp("bfcl-index-cache")


@pytest.fixture
def make_config(tmp_path, index_cache):
    def build(**overrides: Any) -> AssembleConfig:
        settings: dict[str, Any] = {"root": tmp_path / "data", "cache_dir": index_cache, "plots": False}
        settings.update(overrides)
        return AssembleConfig(**settings)

    return build


@pytest.fixture
def build() -> SimpleNamespace:
    return SimpleNamespace(
        trajectory=trajectory, pool=pool, pair=pair, metadata=metadata, distinct_query=distinct_query, tools=TOOLS,
        all_ratios=MixtureTarget.ratios(single=1, parallel=1, multiple=1, multi_turn=1, irrelevance=1), dedup=DedupConfig,
    )


@pytest.fixture(scope="session")
def qwen_tokenizer():
    """A local word-level tokenizer carrying TRL's Qwen2.5 chat template (no hub access)."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast
    from trl.chat_template_utils import qwen2_5_chat_template

    backend = Tokenizer(models.WordLevel({"[UNK]": 0, "<|im_end|>": 1, "<|im_start|>": 2}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", eos_token="<|im_end|>")
    tokenizer.chat_template = qwen2_5_chat_template
    return tokenizer
