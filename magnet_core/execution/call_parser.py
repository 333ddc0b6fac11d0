"""Parse model-written calls into `FunctionCall`s using `ast` and JSON only, never `eval`.

Teacher text is untrusted: it may contain `__import__('os').system(...)`, attribute chains, lambdas or
pathological nesting. Only a call of a bare name with keyword arguments whose values are literals
(numbers, strings, booleans, None, lists, tuples, dicts with literal keys, unary minus on numbers) is
accepted; anything else is a `CallParseError` that says what was refused and where.
"""

from __future__ import annotations

import ast
import json
import re
from enum import Enum
from typing import Any

from magnet_core.domain.calls import FunctionCall

MAX_TEXT_CHARS = 200_000
MAX_NESTING = 40
MAX_CALLS = 64
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*\s*\n?(.*?)\n?```\s*$", re.DOTALL)


class ParseErrorKind(str, Enum):
    EMPTY = "empty"
    NOT_TEXT = "not_text"
    TOO_LARGE = "too_large"
    TOO_DEEP = "too_deep"
    SYNTAX = "syntax"
    NOT_A_CALL = "not_a_call"
    FORBIDDEN_CALLEE = "forbidden_callee"
    POSITIONAL_ARGUMENT = "positional_argument"
    NON_LITERAL = "non_literal"
    DUPLICATE_ARGUMENT = "duplicate_argument"
    BAD_JSON_CALL = "bad_json_call"
    TOO_MANY_CALLS = "too_many_calls"


class CallParseError(ValueError):
    def __init__(self, kind: ParseErrorKind, message: str, *, line: int | None = None, col: int | None = None):
        where = f" (line {line}, col {col})" if line is not None else ""
        super().__init__(f"{kind.value}: {message}{where}")
        self.kind = kind
        self.detail = message
        self.line = line
        self.col = col


def parse_calls(text: str | bytes) -> list[FunctionCall]:
    """Accept BFCL text (`[f(a=1), g(b="x")]` or `f(a=1)`) or OpenAI/JSON tool calls."""
    source = _as_text(text).strip()
    fenced = _FENCE.match(source)
    if fenced:
        source = fenced.group(1).strip()
    if not source:
        raise CallParseError(ParseErrorKind.EMPTY, "no call text")
    if len(source) > MAX_TEXT_CHARS:
        raise CallParseError(ParseErrorKind.TOO_LARGE, f"{len(source)} characters > {MAX_TEXT_CHARS}")
    _check_bracket_depth(source)
    if source[0] in "{" or (source[0] == "[" and source[1:].lstrip()[:1] in ("{", "]")):
        try:
            decoded = json.loads(source)
        except (json.JSONDecodeError, RecursionError):
            decoded = None
        if decoded is not None:
            return _calls_from_json(decoded)
    return _calls_from_python(source)


def parse_openai_tool_calls(tool_calls: Any) -> list[FunctionCall]:
    """Validate the `tool_calls` field of an OpenAI chat message (arguments as JSON text or object)."""
    if not isinstance(tool_calls, list):
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, "tool_calls must be a list")
    return _calls_from_json(tool_calls)


def _as_text(text: str | bytes) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise CallParseError(ParseErrorKind.NOT_TEXT, f"not valid UTF-8 at byte {error.start}") from None
    if not isinstance(text, str):
        raise CallParseError(ParseErrorKind.NOT_TEXT, f"expected text, got {type(text).__name__}")
    return text


def _check_bracket_depth(source: str) -> None:
    """Refuse deep nesting before `ast`/`json` recurse into it (they can crash the interpreter).

    Brackets inside string literals are text, not nesting, so quoted spans (with backslash escapes) are
    skipped: an argument holding many parentheses is a valid value, not a depth bomb.
    """
    depth = 0
    quote: str | None = None
    escaped = False
    for char in source:
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
            continue
        if char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise CallParseError(ParseErrorKind.TOO_DEEP, f"nesting deeper than {MAX_NESTING}")
        elif char in ")]}":
            depth -= 1


def _calls_from_python(source: str) -> list[FunctionCall]:
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise CallParseError(ParseErrorKind.SYNTAX, error.msg or "invalid syntax", line=error.lineno, col=error.offset) from None
    except (RecursionError, MemoryError, ValueError) as error:
        raise CallParseError(ParseErrorKind.TOO_DEEP, f"parser refused the text: {type(error).__name__}") from None
    body = tree.body
    nodes = body.elts if isinstance(body, (ast.List, ast.Tuple)) else [body]
    if len(nodes) > MAX_CALLS:
        raise CallParseError(ParseErrorKind.TOO_MANY_CALLS, f"{len(nodes)} calls > {MAX_CALLS}")
    return [_call_from_node(node) for node in nodes]


def _call_from_node(node: ast.AST) -> FunctionCall:
    if not isinstance(node, ast.Call):
        raise CallParseError(ParseErrorKind.NOT_A_CALL, f"expected a function call, found {type(node).__name__}", **_where(node))
    if not isinstance(node.func, ast.Name):
        kind = type(node.func).__name__
        raise CallParseError(
            ParseErrorKind.FORBIDDEN_CALLEE,
            f"callee must be a bare function name, found {kind} (attribute access and computed callees are refused)",
            **_where(node.func),
        )
    if node.args:
        raise CallParseError(ParseErrorKind.POSITIONAL_ARGUMENT, f"{node.func.id}: use keyword arguments only", **_where(node.args[0]))
    arguments: dict[str, Any] = {}
    for keyword in node.keywords:
        if keyword.arg is None:
            raise CallParseError(ParseErrorKind.NON_LITERAL, f"{node.func.id}: **kwargs expansion is refused", **_where(keyword))
        if keyword.arg in arguments:
            raise CallParseError(ParseErrorKind.DUPLICATE_ARGUMENT, f"{node.func.id}: argument {keyword.arg!r} given twice", **_where(keyword))
        arguments[keyword.arg] = _literal(keyword.value, f"{node.func.id}.{keyword.arg}")
    return FunctionCall(name=node.func.id, arguments=arguments)


def _literal(node: ast.AST, path: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = node.operand
        if isinstance(operand, ast.Constant) and type(operand.value) in (int, float):
            return -operand.value if isinstance(node.op, ast.USub) else operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, f"{path}[{index}]") for index, item in enumerate(node.elts)]
    if isinstance(node, ast.Dict):
        result: dict[str, Any] = {}
        for key, value in zip(node.keys, node.values):
            if key is None:
                raise CallParseError(ParseErrorKind.NON_LITERAL, f"{path}: dict unpacking is refused", **_where(value))
            key_value = _literal(key, path)
            if not isinstance(key_value, (str, int, float, bool)):
                raise CallParseError(ParseErrorKind.NON_LITERAL, f"{path}: dict keys must be scalars", **_where(key))
            result[str(key_value)] = _literal(value, f"{path}[{key_value!r}]")
        return result
    raise CallParseError(
        ParseErrorKind.NON_LITERAL,
        f"{path}: only literal values are accepted, found {type(node).__name__}",
        **_where(node),
    )


def _where(node: ast.AST) -> dict[str, int | None]:
    return {"line": getattr(node, "lineno", None), "col": getattr(node, "col_offset", None)}


def _calls_from_json(decoded: Any) -> list[FunctionCall]:
    if isinstance(decoded, dict) and "tool_calls" in decoded:
        decoded = decoded["tool_calls"]
    items = decoded if isinstance(decoded, list) else [decoded]
    if len(items) > MAX_CALLS:
        raise CallParseError(ParseErrorKind.TOO_MANY_CALLS, f"{len(items)} calls > {MAX_CALLS}")
    return [_call_from_json(item, index) for index, item in enumerate(items)]


def _call_from_json(item: Any, index: int) -> FunctionCall:
    if not isinstance(item, dict):
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, f"call #{index} is {type(item).__name__}, not an object")
    function = item.get("function", item)
    if not isinstance(function, dict):
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, f"call #{index}: 'function' must be an object")
    name = function.get("name")
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, f"call #{index}: missing or invalid function name {name!r}")
    raw = function.get("arguments", function.get("parameters", {}))
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except (json.JSONDecodeError, RecursionError) as error:
            raise CallParseError(ParseErrorKind.BAD_JSON_CALL, f"call #{index} ({name}): arguments are not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise CallParseError(ParseErrorKind.BAD_JSON_CALL, f"call #{index} ({name}): arguments must be an object")
    return FunctionCall(name=name, arguments=raw)
