"""Malformed pools: every bad entry reported with location and reason, good ones kept, strict fails."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from magnet_core.domain import FunctionCall
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools import PoolLoadError, load_pool
from magnet_core.pools.schema import SchemaError, normalize_schema


def _tool(name, parameters=None, **extra):
    function = {"name": name, "description": f"{name} does things", "parameters": parameters or {"type": "object", "properties": {}}}
    function.update(extra)
    return {"type": "function", "function": function}


GOOD_WEATHER = _tool(
    "get_weather",
    {"type": "object", "properties": {"city": {"type": "string", "description": "City name"}}, "required": ["city"]},
    response={"type": "object", "properties": {"temperature_c": {"type": "number"}, "summary": {"type": "string"}}},
)


def test_openai_json_pool_reports_every_bad_entry_and_keeps_the_good(tmp_path: Path):
    entries = [
        GOOD_WEATHER,
        {"type": "function", "function": {"description": "no name"}},
        _tool("get_weather"),
        _tool("bad_type", {"type": "object", "properties": {"x": {"type": "complex128"}}}),
        _tool("bad_required", {"type": "object", "properties": {}, "required": ["ghost"]}),
        _tool("cyclic", {"type": "object", "properties": {"node": {"$ref": "#/$defs/n"}}, "$defs": {"n": {"type": "object", "properties": {"next": {"$ref": "#/$defs/n"}}}}}),
        _tool("remote_ref", {"type": "object", "properties": {"x": {"$ref": "http://evil.example/schema.json"}}}),
        _tool("not an identifier!"),
        "just a string",
        _tool("bfcl_dialect", {"type": "dict", "properties": {"ratio": {"type": "float", "description": "r"}}, "required": ["ratio"]}),
    ]
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(entries))
    pool = load_pool("openai-json", str(path))
    assert [spec.name for spec in pool.specs] == ["get_weather", "bfcl_dialect"]
    assert pool.spec("bfcl_dialect").parameters["properties"]["ratio"]["type"] == "number"
    reasons = {re.match(r"tools\.json\[\d+\]", issue.location).group(0): issue.reason for issue in pool.issues}
    assert len(pool.issues) == 8
    assert "missing function name" in reasons["tools.json[1]"]
    assert "duplicate name" in reasons["tools.json[2]"]
    assert "unknown type 'complex128'" in reasons["tools.json[3]"]
    assert "ghost" in reasons["tools.json[4]"]
    assert "recursive $ref" in reasons["tools.json[5]"]
    assert "remote $ref" in reasons["tools.json[6]"]
    assert "invalid function name" in reasons["tools.json[7]"]
    assert "must be an object" in reasons["tools.json[8]"]
    with pytest.raises(PoolLoadError) as caught:
        load_pool("openai-json", str(path), strict=True)
    assert len(caught.value.issues) == 8


def test_jsonl_pool_keeps_lines_around_a_broken_one(tmp_path: Path):
    path = tmp_path / "tools.jsonl"
    path.write_text(json.dumps(GOOD_WEATHER) + "\n{not json\n" + json.dumps(_tool("ping")) + "\n")
    pool = load_pool("openai-json", str(path))
    assert [spec.name for spec in pool.specs] == ["get_weather", "ping"]
    assert [issue.location for issue in pool.issues] == ["tools.jsonl:2"]


def test_non_utf8_and_missing_files_are_clear_errors(tmp_path: Path):
    path = tmp_path / "bad.json"
    path.write_bytes(b'[{"name": "caf\xe9"}]')
    with pytest.raises(PoolLoadError, match="not valid UTF-8"):
        load_pool("openai-json", str(path))
    with pytest.raises(PoolLoadError, match="file not found"):
        load_pool("openai-json", str(tmp_path / "absent.json"))


def test_python_object_cycles_and_depth_bombs_are_refused():
    cyclic: dict = {"type": "object", "properties": {}}
    cyclic["properties"]["self"] = cyclic
    with pytest.raises(SchemaError, match="cycle"):
        normalize_schema(cyclic)
    deep: dict = {"type": "object"}
    node = deep
    for _ in range(100):
        node["properties"] = {"x": {"type": "object"}}
        node = node["properties"]["x"]
    with pytest.raises(SchemaError, match="deeper"):
        normalize_schema(deep)


def test_openai_json_pool_executes_as_marked_simulation(tmp_path: Path):
    path = tmp_path / "tools.json"
    path.write_text(json.dumps({"tools": [GOOD_WEATHER]}))
    pool = load_pool("openai-json", str(path))
    assert pool.simulated and not pool.spec("get_weather").executable
    with CallExecutor(pool.new_session()) as executor:
        first = executor.execute(FunctionCall(name="get_weather", arguments={"city": "Oslo"}))
        again = executor.execute(FunctionCall(name="get_weather", arguments={"city": "Oslo"}))
        other = executor.execute(FunctionCall(name="get_weather", arguments={"city": "Rome"}))
        missing = executor.execute(FunctionCall(name="get_weather", arguments={}))
    assert first.ok and first.simulated
    assert set(first.output) == {"temperature_c", "summary"} and isinstance(first.output["temperature_c"], float)
    assert first.output == again.output and first.output != other.output
    assert missing.error_kind.value == "invalid_arguments" and "city" in missing.error


BACKEND_SOURCE = textwrap.dedent(
    '''
    import time
    from typing import Literal, Optional


    class Notebook:
        """A tiny stateful backend used by the tests."""

        def __init__(self, owner: str = "anon"):
            self.owner = owner
            self.notes: dict[str, str] = {}

        def add_note(self, title: str, body: str, tags: Optional[list[str]] = None) -> dict:
            """Store a note.

            Args:
                title: Title of the note.
                body: Text of the note.
                tags: Optional labels.

            Returns:
                The id of the stored note.
            """
            self.notes[title] = body
            return {"note_id": title, "owner": self.owner}

        def read_note(self, note_id: str, mode: Literal["full", "summary"] = "full") -> dict:
            """Read a stored note back.

            Args:
                note_id: Id returned by add_note.
                mode: How much to return.
            """
            if note_id not in self.notes:
                raise KeyError(note_id)
            return {"body": self.notes[note_id] if mode == "full" else self.notes[note_id][:3]}

        def slow(self, seconds: float) -> dict:
            """Sleep for a while.

            Args:
                seconds: How long.
            """
            time.sleep(seconds)
            return {"slept": seconds}

        def undocumented(self, x: int) -> int:
            return x

        def untyped(self, x):
            """No hints."""
            return x
    '''
)


@pytest.fixture()
def notebook_module(tmp_path: Path, monkeypatch):
    (tmp_path / "magnet_test_notebook.py").write_text(BACKEND_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "magnet_test_notebook:Notebook"


def test_python_pool_turns_typed_documented_methods_into_functions(notebook_module):
    pool = load_pool("python", notebook_module)
    assert sorted(spec.name for spec in pool.specs) == ["add_note", "read_note", "slow"]
    reasons = sorted(issue.reason for issue in pool.issues)
    assert any("no docstring" in reason for reason in reasons) and any("no type hint" in reason for reason in reasons)
    add = pool.spec("Notebook.add_note")
    assert add.description == "Store a note."
    assert add.required_params == ["title", "body"]
    assert add.param_properties["tags"] == {"type": "array", "items": {"type": "string"}, "description": "Optional labels."}
    assert pool.spec("Notebook.read_note").param_properties["mode"]["enum"] == ["full", "summary"]
    with pytest.raises(PoolLoadError):
        load_pool("python", notebook_module, strict=True)


def test_python_pool_sessions_are_isolated_and_execute_for_real(notebook_module):
    pool = load_pool("python", notebook_module)
    a = CallExecutor(pool.new_session(initial_state={"Notebook": {"owner": "ann"}}))
    b = CallExecutor(pool.new_session())
    stored = a.execute(FunctionCall(name="add_note", arguments={"title": "t1", "body": "hello world"}))
    assert stored.ok and stored.output == {"note_id": "t1", "owner": "ann"}
    assert a.execute(FunctionCall(name="read_note", arguments={"note_id": stored.output["note_id"]})).output == {"body": "hello world"}
    missing = b.execute(FunctionCall(name="read_note", arguments={"note_id": "t1"}))
    assert not missing.ok and missing.error_kind.value == "exception" and "KeyError" in missing.error
    a.close()
    b.close()


def test_a_hanging_call_times_out_and_poisons_its_session(notebook_module):
    pool = load_pool("python", notebook_module)
    with CallExecutor(pool.new_session(), timeout_s=0.2) as executor:
        hung = executor.execute(FunctionCall(name="slow", arguments={"seconds": 2.0}))
        after = executor.execute(FunctionCall(name="add_note", arguments={"title": "t", "body": "b"}))
    assert hung.error_kind.value == "timeout"
    assert after.error_kind.value == "session_poisoned"


def test_unimportable_python_source_is_a_clear_error():
    with pytest.raises(PoolLoadError, match="cannot import"):
        load_pool("python", "no_such_module_xyz:Thing")
    with pytest.raises(ValueError, match="unknown pool kind"):
        load_pool("yaml", "x")
