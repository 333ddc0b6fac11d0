"""Cache keys, retry conditions, refs and shards: the parts every stage task is built from."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from magnet_core.llm.types import (
    BudgetExceededError,
    CircuitOpenError,
    LLMPermanentError,
    LLMTransientExhausted,
    ModelConfig,
)
from magnet_core.translate.models import TranslateConfig
from prefect.states import Failed
from tasks import cache_keys
from tasks.cache_keys import stage_cache_key
from tasks.refs import CorruptArtifactError, read_jsonl, write_json, write_jsonl
from tasks.retry_policy import is_retryable, retry_condition
from tasks.shards import read_shard, split_into_shards
from tasks.workspace import Workspace


class Item(BaseModel):
    name: str
    value: int


def _shard_key(tmp_path: Path, items: list[dict], config: TranslateConfig, root: str = "a") -> str:
    ref = write_jsonl(tmp_path / root / "items.jsonl", items)
    shard = split_into_shards(ref, 10)[0]
    workspace = Workspace(root=str(tmp_path / root), dataset_root=str(tmp_path / "data"), run_id="r1")
    return stage_cache_key("translate", {"shard": shard, "config": config, "workspace": workspace})


def test_cache_key_follows_inputs_model_and_prompts_not_location(tmp_path, monkeypatch):
    items = [{"name": "a", "value": 1}, {"name": "b", "value": 2}]
    base = _shard_key(tmp_path, items, TranslateConfig())
    assert base == _shard_key(tmp_path, items, TranslateConfig(), root="elsewhere"), "location must not matter"
    assert base != _shard_key(tmp_path, items[:1], TranslateConfig()), "inputs must matter"
    assert base != _shard_key(tmp_path, items, TranslateConfig(seed=1)), "the seed must matter"
    teacher = TranslateConfig(models={"query_writer": ModelConfig(model="openai/gpt-4o-mini")})
    assert base != _shard_key(tmp_path, items, teacher), "model settings must matter"
    monkeypatch.setattr(cache_keys, "prompt_tags", lambda: ("query_writer@v999#deadbeef",))
    assert base != _shard_key(tmp_path, items, TranslateConfig()), "prompt versions must matter"
    monkeypatch.setattr(cache_keys, "stage_code_version", lambda stage: "changed-code")
    changed_code = _shard_key(tmp_path, items, TranslateConfig())
    monkeypatch.undo()
    assert changed_code != base, "stage code version must matter"


def test_cache_key_never_holds_a_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("MAGNET_TEST_KEY", "sk-secret-value")
    config = TranslateConfig(models={"query_writer": ModelConfig(model="openai/x", api_key_env="MAGNET_TEST_KEY")})
    payload = cache_keys.canonical(config)
    assert "sk-secret-value" not in repr(payload)
    assert payload["models"]["query_writer"]["api_key_env"] == "MAGNET_TEST_KEY"


@pytest.mark.parametrize("error, retry", [
    (LLMTransientExhausted("429 x6"), True),
    (CircuitOpenError("open"), True),
    (ConnectionResetError("reset"), True),
    (TimeoutError("slow"), True),
    (OSError("disk"), True),
    (LLMPermanentError("401"), False),
    (BudgetExceededError("cap"), False),
    (ValueError("bad config"), False),
    (FileNotFoundError("missing input"), False),
    (RuntimeError("unknown"), False),
])
def test_retry_condition_separates_infrastructure_from_deterministic_errors(error, retry):
    assert is_retryable(error) is retry
    assert retry_condition(None, None, Failed(data=error)) is retry


def test_schema_errors_are_never_retried():
    with pytest.raises(ValidationError) as caught:
        TranslateConfig(max_concurrency=0)
    assert retry_condition(None, None, Failed(data=caught.value)) is False


def test_refs_are_verified_on_read(tmp_path):
    ref = write_jsonl(tmp_path / "items.jsonl", [Item(name="a", value=1), Item(name="b", value=2)])
    assert ref.count == 2
    assert [item.value for item in read_jsonl(ref, Item)] == [1, 2]
    Path(ref.path).write_text('{"name": "a", "value": 666}\n')
    with pytest.raises(CorruptArtifactError):
        read_jsonl(ref, Item)
    assert not list(tmp_path.glob("*.tmp")), "atomic writes leave no temporary file"
    assert write_json(tmp_path / "x.json", {"a": 1}).sha256 == write_json(tmp_path / "y.json", {"a": 1}).sha256


def test_shard_keys_follow_their_own_items(tmp_path):
    items = [{"name": str(i), "value": i} for i in range(7)]
    before = split_into_shards(write_jsonl(tmp_path / "a.jsonl", items), 3)
    assert [(s.start, s.stop) for s in before] == [(0, 3), (3, 6), (6, 7)]
    items[4]["value"] = 40
    after = split_into_shards(write_jsonl(tmp_path / "b.jsonl", items), 3)
    same = [b.items_sha256 == a.items_sha256 for b, a in zip(before, after)]
    assert same == [True, False, True], "only the shard holding the changed item gets a new key"
    assert [item.value for item in read_shard(after[1], Item)] == [3, 40, 5]
    with pytest.raises(ValueError):
        split_into_shards(write_json(tmp_path / "c.json", items), 3)


def test_transient_llm_rejects_make_the_shard_retry_instead_of_being_cached():
    from magnet_core.domain import Reject
    from tasks.retry_policy import TransientItemFailures, raise_if_transient_rejects

    permanent = Reject(stage="translate", item_id="a", reason="llm_error", detail="LLMPermanentError: 401")
    parse = Reject(stage="translate", item_id="b", reason="query_writer_unparseable", detail="no JSON")
    raise_if_transient_rejects([permanent, parse], "translate")  # deterministic rejects are data
    transient = Reject(stage="translate", item_id="c", reason="llm_error", detail="LLMTransientExhausted: 503 x6")
    with pytest.raises(TransientItemFailures) as caught:
        raise_if_transient_rejects([permanent, transient], "translate")
    assert is_retryable(caught.value)
