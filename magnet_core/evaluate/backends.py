"""The two ways to reach the model under evaluation: the shared `LLMClient`, or transformers locally.

Through the client (a hosted API, or a vLLM/OpenAI-compatible server with the trained checkpoint) every
step is a cached request: the conversation so far is a pure function of the case and the earlier
answers, so a resumed or repeated evaluation replays cached steps for free. The local backend loads a
checkpoint with transformers and renders the conversation with the checkpoint's own chat template
(tools included), the same rendering its training used; greedy decoding keeps it deterministic.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from magnet_core.domain.trajectory import ChatMessage
from magnet_core.evaluate.replies import AssistantReply
from magnet_core.llm.client import LLMClient
from magnet_core.llm.types import LLMRequest, ModelConfig

EVAL_ROLE = "eval_assistant"


class LLMBackend:
    def __init__(self, client: LLMClient, model: ModelConfig, prompt_version: str, params: dict[str, Any]):
        self.client = client
        self.model = model
        self.prompt_version = prompt_version
        self.params = dict(params)
        self.label = model.model

    async def reply(self, messages: list[ChatMessage], tools: list[dict[str, Any]]) -> AssistantReply:
        request = LLMRequest(
            role=EVAL_ROLE,
            stage="evaluate",
            messages=tuple(message.to_openai() for message in messages),
            tools=tuple(tools),
            params=self.params,
            prompt_version=self.prompt_version,
        )
        response = await self.client.complete(request, self.model)
        return AssistantReply(
            content=response.content,
            tool_calls=response.tool_calls,
            prompt_tokens=response.prompt_tokens,
            completion_tokens=response.completion_tokens,
            cost_usd=response.cost_usd,
            cached=response.cached,
            latency_s=response.latency_s,
        )


class LocalTransformersBackend:
    """One local checkpoint, one generation at a time (CPU or a single GPU), greedy."""

    def __init__(self, path: Path, max_new_tokens: int):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.path = Path(path)
        self.label = f"local:{self.path.name}"
        self.max_new_tokens = max_new_tokens
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        if not self.tokenizer.chat_template:
            raise ValueError(f"{self.path}: the tokenizer has no chat template; evaluation renders tools with it")
        self.model = AutoModelForCausalLM.from_pretrained(self.path)
        self.model.eval()
        # A prompt longer than the model's window keeps its most recent tokens (BFCL's long-context
        # cases can exceed a small model's window); the reply is then judged like any other.
        window = int(getattr(self.model.config, "max_position_embeddings", 0) or 0)
        self.max_prompt_tokens = max(window - max_new_tokens, 1) if window else None
        self._lock = asyncio.Lock()

    async def reply(self, messages: list[ChatMessage], tools: list[dict[str, Any]]) -> AssistantReply:
        async with self._lock:
            return await asyncio.to_thread(self._generate, [m.to_template() for m in messages], tools)

    def _generate(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AssistantReply:
        started = time.perf_counter()
        encoded = self.tokenizer.apply_chat_template(
            messages, tools=tools, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        input_ids, attention = encoded["input_ids"], encoded["attention_mask"]
        if self.max_prompt_tokens is not None:
            input_ids, attention = input_ids[:, -self.max_prompt_tokens:], attention[:, -self.max_prompt_tokens:]
        with self._torch.no_grad():
            output = self.model.generate(
                input_ids=input_ids,
                attention_mask=attention,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.tokenizer.eos_token_id,
            )
        new_tokens = output[0, input_ids.shape[1]:]
        text = self.tokenizer.decode(new_tokens, skip_special_tokens=False)
        for marker in (self.tokenizer.eos_token, self.tokenizer.pad_token):
            if marker:
                text = text.split(marker)[0]
        return AssistantReply(
            content=text.strip(),
            prompt_tokens=int(input_ids.shape[1]),
            completion_tokens=int(new_tokens.shape[0]),
            latency_s=time.perf_counter() - started,
        )
