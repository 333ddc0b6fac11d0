"""Fixtures for the evaluation area: scripted models behind the project's fake OpenAI server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from magnet_core.evaluate.bfcl_data import CATEGORIES, EvalCase, sample_cases  # noqa: E402
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread  # noqa: E402
from magnet_core.llm.types import ModelConfig  # noqa: E402
from scripted import SAMPLE, SEED, TurnCalls, script_rules  # noqa: E402


@pytest.fixture(scope="session")
def specs_by_name(bfcl_pool):
    return {spec.name: spec for spec in bfcl_pool.specs}


@pytest.fixture(scope="session")
def sampled_cases() -> list[EvalCase]:
    return [case for category in CATEGORIES for case in sample_cases(category, SAMPLE, SEED)]


@pytest.fixture
def scripted_model(specs_by_name, sampled_cases):
    """`with scripted_model(policy) as (server, model_config): ...`: a fake server answering by `policy`."""

    @contextmanager
    def serve(policy: TurnCalls, cases: list[EvalCase] | None = None) -> Iterator[tuple[FakeServerThread, ModelConfig]]:
        rules = script_rules(cases or sampled_cases, specs_by_name, policy)
        with FakeServerThread(FakeServerConfig(answers=rules)) as server:
            yield server, ModelConfig(model="openai/fake-model", api_base=server.url, max_retries=0)

    return serve

