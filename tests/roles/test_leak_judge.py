"""The leak judge role over real HTTP (litellm -> the project's test server): verdicts, strict parsing, re-asks."""

from __future__ import annotations

import asyncio

from magnet_core.distill.judged_leaks import JUDGED_LEAK, judged_leak
from magnet_core.domain.trajectory import ChatMessage
from magnet_core.llm.client import LLMClient
from magnet_core.llm.fake_answers import PARAPHRASED_LEAK_TEXT, AnswerRules, ScriptRule
from magnet_core.llm.fake_server import FakeServerConfig, FakeServerThread
from magnet_core.llm.types import ModelConfig
from magnet_core.verify.leaks import leak_phrase

CLEAN = "Done: the file has 3 lines and the note was added to ticket 7."
LEAKY = "Done: the file has 3 lines." + PARAPHRASED_LEAK_TEXT


def _conversation(closing: str) -> tuple[ChatMessage, ...]:
    return (ChatMessage(role="system", content="You are a helpful assistant."),
            ChatMessage(role="user", content="How many lines has notes.txt? Then add a note to ticket 7."),
            ChatMessage(role="assistant", content=closing))


def _judge(server) -> ModelConfig:
    return ModelConfig(model="openai/fake-judge", api_base=server.url, timeout_s=10.0, max_retries=0)


def test_the_judge_catches_a_paraphrase_the_pattern_model_misses_and_passes_clean_text():
    assert leak_phrase(LEAKY) is None, "the paraphrase must be one the phrase/n-gram model misses"
    with FakeServerThread(FakeServerConfig(answers=AnswerRules(mode="roles"))) as server:
        client = LLMClient()
        leaky, _ = asyncio.run(judged_leak(_conversation(LEAKY), "s-1", "verify", _judge(server), client, 2))
        clean, _ = asyncio.run(judged_leak(_conversation(CLEAN), "s-2", "verify", _judge(server), client, 2))
        assert server.stats.as_dict()["by_role"] == {"leak_judge": 2}
    assert clean is None
    assert leaky.reason == JUDGED_LEAK and leaky.stage == "verify" and leaky.item_id == "s-1"
    assert "leak judge openai/fake-judge: message 2: 'was handed'" in leaky.detail


def test_an_unusable_verdict_is_re_asked_then_the_sample_is_refused_with_every_attempt():
    invented = '{"leak": true, "message": 2, "quote": "words that are not there", "reason": "made up"}'
    rules = AnswerRules(mode="script", script=(ScriptRule(pattern="leaked private guidance", content=invented, target="prompt"),))
    with FakeServerThread(FakeServerConfig(answers=rules)) as server:
        refused, _ = asyncio.run(judged_leak(_conversation(CLEAN), "s-3", "verify", _judge(server), LLMClient(), 2))
        assert server.stats.chat_requests == 3, "one ask and two re-asks"
    assert refused.reason == "leak_judge_unusable" and refused.detail.count("'quote' must copy words of message 2") == 3
