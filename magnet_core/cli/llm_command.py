"""`magnet fake-llm`: serve the project's local OpenAI-compatible test server.

For benchmarks and manual runs of the factory against real HTTP without a paid API. It answers from
rules, not a model: it is a test double for the network, never a part of the factory's output path.
"""

from __future__ import annotations

from pathlib import Path

import typer

FAKE_BANNER = "[test double] fake OpenAI-compatible server: answers come from rules, not from a model"


def register(app: typer.Typer) -> None:
    app.command("fake-llm")(fake_llm)


def fake_llm(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (keep it local)."),
    port: int = typer.Option(8000, help="TCP port; 0 picks a free one."),
    mode: str = typer.Option("echo", help="Answer mode: echo | hint | roles (plays every role) | script (needs --script-file)."),
    bad_rate: float = typer.Option(0.0, help="Share of answers replaced by a bad one (invalid JSON, made-up function, empty)."),
    bad_kinds: str = typer.Option("invalid_json,unknown_function,empty", help="Comma list of bad answers to draw from: "
                                  "invalid_json, unknown_function, empty, leak, paraphrased_leak, ungrounded "
                                  "(roles mode: a writer uses a value the request never gave)."),
    script_file: Path = typer.Option(None, help="JSON list of rules {pattern, target, content, tool_calls} for script mode."),
    latency_ms: float = typer.Option(0.0, help="Delay added to every chat request."),
    fault: list[str] = typer.Option([], help="Injected fault with a rate, e.g. rate_limit=0.1 (repeatable)."),
    retry_after_s: float = typer.Option(1.0, help="Retry-After header value sent with injected 429s."),
    hang_s: float = typer.Option(30.0, help="How long an injected `hang` fault stalls."),
    api_key_env: str = typer.Option("", help="If set, require `Authorization: Bearer $VAR` (401 otherwise)."),
    seed: int = typer.Option(0, help="Seed of the fault draws."),
    record_requests: bool = typer.Option(False, help="Keep request bodies for POST /requests/take (benchmark replays)."),
) -> None:
    """Serve the fake LLM until interrupted; GET /stats shows request counts."""
    import asyncio
    import os

    from magnet_core.llm.fake_answers import AnswerRules, ScriptRule
    from magnet_core.llm.fake_server import FakeLLMServer, FakeServerConfig

    if mode not in ("echo", "hint", "roles", "script"):
        raise typer.BadParameter(f"unknown mode {mode!r}; use echo, hint, roles or script")
    rules: tuple[ScriptRule, ...] = ()
    if mode == "script":
        if script_file is None:
            raise typer.BadParameter("script mode needs --script-file")
        rules = load_script_rules(script_file)
    rates = []
    for item in fault:
        name, _, rate = item.partition("=")
        try:
            rates.append((name, float(rate)))
        except ValueError as error:
            raise typer.BadParameter(f"fault must look like NAME=RATE, got {item!r}") from error
    kinds = tuple(kind.strip() for kind in bad_kinds.split(",") if kind.strip())
    api_key = None
    if api_key_env:
        api_key = os.environ.get(api_key_env)
        if not api_key:
            raise typer.BadParameter(f"environment variable {api_key_env} is not set")
    try:
        config = FakeServerConfig(latency_s=latency_ms / 1000, answers=AnswerRules(mode=mode, script=rules,  # type: ignore[arg-type]
                                                                                       bad_rate=bad_rate, seed=seed,
                                                                                       bad_kinds=kinds),
                                  fault_rates=tuple(rates), retry_after_s=retry_after_s, hang_s=hang_s,
                                  api_key=api_key, seed=seed, record_requests=record_requests)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error

    async def serve() -> None:
        async with FakeLLMServer(config, host=host, port=port) as server:
            typer.echo(FAKE_BANNER)
            typer.echo(f"listening on {server.url} (stats: http://{host}:{server.port}/stats)", err=False)
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


def load_script_rules(path: Path) -> tuple["ScriptRule", ...]:
    """Rules file: a JSON list of objects with `pattern` and optional `target`, `content`, `tool_calls`."""
    import json

    from magnet_core.llm.fake_answers import ScriptRule

    try:
        items = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(items, list):
            raise ValueError("the file must hold a JSON list of rules")
        return tuple(ScriptRule(pattern=str(item["pattern"]), content=item.get("content"),
                                tool_calls=tuple(item.get("tool_calls") or ()), target=item.get("target", "last_user"))
                     for item in items)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise typer.BadParameter(f"cannot read script rules from {path}: {error}") from error
