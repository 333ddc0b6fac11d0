"""The parser is the only door from model text to execution: hostile text must be refused, not run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from magnet_core.domain import FunctionCall, calls_to_bfcl, calls_to_openai_tool_calls
from magnet_core.execution.call_parser import CallParseError, ParseErrorKind, parse_calls, parse_openai_tool_calls


def test_bfcl_text_round_trips_through_the_domain_model():
    calls = [
        FunctionCall(name="mv", arguments={"source": "final report.pdf", "destination": "temp"}),
        FunctionCall(name="place_order", arguments={"symbol": "AAPL", "price": -2.5, "amount": 10, "dry": False}),
        FunctionCall(name="post", arguments={"tags": ["#a", "ünïcode \"quoted\"\n"], "meta": {"k": None, "n": [1, {"x": 1.0}]}}),
        FunctionCall(name="ls", arguments={}),
    ]
    text = calls_to_bfcl(calls)
    assert parse_calls(text) == calls


def test_openai_tool_calls_round_trip_with_json_text_and_object_arguments():
    calls = [FunctionCall(name="cd", arguments={"folder": "docs"}), FunctionCall(name="cat", arguments={"file_name": "a.txt"})]
    wire = calls_to_openai_tool_calls(calls)
    assert all(isinstance(item["function"]["arguments"], str) for item in wire)
    assert parse_openai_tool_calls(wire) == calls
    as_objects = [{"function": {"name": c.name, "arguments": c.arguments}} for c in calls]
    assert parse_calls(str(as_objects).replace("'", '"')) == calls
    assert FunctionCall.from_openai_tool_call(wire[0]) == calls[0]


def test_single_call_without_brackets_and_code_fences_are_accepted():
    assert parse_calls("cd(folder='x')") == [FunctionCall(name="cd", arguments={"folder": "x"})]
    assert parse_calls("```python\n[cd(folder='x')]\n```") == [FunctionCall(name="cd", arguments={"folder": "x"})]
    assert parse_calls("[]") == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("__import__('os').system('touch {sentinel}')", ParseErrorKind.FORBIDDEN_CALLEE),
        ("[ls(path=__import__('os').system('touch {sentinel}'))]", ParseErrorKind.NON_LITERAL),
        ("open('/etc/passwd')", ParseErrorKind.POSITIONAL_ARGUMENT),
        ("cat(file_name=open('/etc/passwd').read())", ParseErrorKind.NON_LITERAL),
        ("f(x=lambda: __import__('os').system('touch {sentinel}'))", ParseErrorKind.NON_LITERAL),
        ("os.path.join(a='b')", ParseErrorKind.FORBIDDEN_CALLEE),
        ("f(x=().__class__.__bases__[0].__subclasses__())", ParseErrorKind.NON_LITERAL),
        ("f(x=[i for i in range(10)])", ParseErrorKind.NON_LITERAL),
        ("f(x=1+2)", ParseErrorKind.NON_LITERAL),
        ("f(x=y)", ParseErrorKind.NON_LITERAL),
        ("f(**{'a': 1})", ParseErrorKind.NON_LITERAL),
        ("f(x=1, x=2)", ParseErrorKind.DUPLICATE_ARGUMENT),
        ("f(x=f'{1}')", ParseErrorKind.NON_LITERAL),
        ("f(x={1, 2})", ParseErrorKind.NON_LITERAL),
        ("(yield)", ParseErrorKind.NOT_A_CALL),
        ("import os", ParseErrorKind.SYNTAX),
        ("[1, 2]", ParseErrorKind.NOT_A_CALL),
        ("f(x=" + "[" * 5000 + "]" * 5000 + ")", ParseErrorKind.TOO_DEEP),
        ("{" * 100_000, ParseErrorKind.TOO_DEEP),
        ("", ParseErrorKind.EMPTY),
        ('[{"name": "os.system", "arguments": {}}]', ParseErrorKind.BAD_JSON_CALL),
        ('[{"name": "f", "arguments": "{not json"}]', ParseErrorKind.BAD_JSON_CALL),
        ('[{"name": "f", "arguments": [1, 2]}]', ParseErrorKind.BAD_JSON_CALL),
        ("x" * 300_000, ParseErrorKind.TOO_LARGE),
    ],
)
def test_hostile_text_is_refused_with_a_typed_reason_and_nothing_runs(tmp_path: Path, text: str, kind: ParseErrorKind):
    sentinel = tmp_path / "pwned"
    with pytest.raises(CallParseError) as caught:
        parse_calls(text.replace("{sentinel}", str(sentinel)))
    assert caught.value.kind is kind
    assert str(caught.value)  # a readable explanation
    assert not sentinel.exists()


def test_brackets_inside_strings_are_text_not_nesting():
    text = "(" * 100 + "[{" * 50 + "\\\" ')"
    call = FunctionCall(name="echo", arguments={"content": text, "note": 'it\'s "quoted" ((('})
    assert parse_calls(calls_to_bfcl([call])) == [call]
    assert parse_openai_tool_calls(calls_to_openai_tool_calls([call])) == [call]
    assert parse_calls(json.dumps(calls_to_openai_tool_calls([call]))) == [call]


def test_non_utf8_bytes_are_refused():
    with pytest.raises(CallParseError) as caught:
        parse_calls(b"cd(folder='\xff\xfe')")
    assert caught.value.kind is ParseErrorKind.NOT_TEXT
    assert parse_calls("cd(folder='é')".encode()) == [FunctionCall(name="cd", arguments={"folder": "é"})]


def test_errors_point_at_the_offending_spot():
    with pytest.raises(CallParseError) as caught:
        parse_calls("[cd(folder='a'),\n mv(source=x)]")
    assert caught.value.line == 2
    assert "mv.source" in str(caught.value)


def test_parser_never_calls_eval(monkeypatch):
    import builtins

    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec must never be used by the parser")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    assert parse_calls("[f(a={'b': [1, -2.0, None]})]")[0].arguments == {"a": {"b": [1, -2.0, None]}}
