"""The BFCL pool: all 128 multi-turn functions, standard JSON Schema, real executable backends."""

from __future__ import annotations

import sys
from pathlib import Path

import jsonschema
import pytest

from magnet_core.domain import FunctionCall
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools import load_pool
from magnet_core.pools.bfcl import BFCL_CLASSES

EXPECTED_COUNTS = {
    "GorillaFileSystem": 18,
    "MathAPI": 17,
    "MessageAPI": 10,
    "TwitterAPI": 14,
    "TicketAPI": 9,
    "TradingBot": 20,
    "TravelAPI": 18,
    "VehicleControlAPI": 22,
}
BFCL_DIALECT = {"dict", "float", "tuple", "any"}


def _types(schema):
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "type":
                yield from (value if isinstance(value, list) else [value])
            elif key == "properties":
                for sub in value.values():
                    yield from _types(sub)
            elif isinstance(value, (dict, list)):
                yield from _types(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from _types(item)


def test_all_128_functions_load_with_complete_standard_schemas(bfcl_pool):
    assert len(bfcl_pool.specs) == 128
    assert not bfcl_pool.issues
    assert {name: len(specs) for name, specs in bfcl_pool.classes().items()} == EXPECTED_COUNTS
    for spec in bfcl_pool.specs:
        assert spec.description, spec.qualified_name
        assert spec.category and spec.tool_class in BFCL_CLASSES
        assert spec.parameters["type"] == "object"
        jsonschema.Draft202012Validator.check_schema(spec.parameters)
        assert set(spec.required_params) <= set(spec.param_properties)
        for name, prop in spec.param_properties.items():
            assert prop.get("description"), f"{spec.qualified_name}.{name} lacks a description"
        assert spec.response is not None and spec.response["type"] == "object", spec.qualified_name
        found = set(_types(spec.parameters)) | set(_types(spec.response))
        assert not found & BFCL_DIALECT, (spec.qualified_name, found)
        assert spec.executable


def test_bfcl_dialect_is_mapped(bfcl_pool):
    stock = bfcl_pool.spec("TradingBot.get_stock_info")
    assert stock.response_properties["price"]["type"] == "number"
    tool = stock.to_openai_tool()
    assert tool["type"] == "function" and tool["function"]["name"] == "get_stock_info"


def test_loading_the_pool_never_opens_bfcl_evaluation_data():
    opened: list[str] = []

    def audit(event, args):
        if event == "open" and args and isinstance(args[0], (str, Path)):
            opened.append(str(args[0]))

    sys.addaudithook(audit)
    load_pool("bfcl")
    evaluation = [path for path in opened if "bfcl_eval" in path and ("BFCL_v" in path or "possible_answer" in path)]
    assert evaluation == []
    assert any("multi_turn_func_doc" in path for path in opened)


def test_unknown_class_is_reported_and_strict_fails():
    loaded = load_pool("bfcl", "TradingBot,NoSuchAPI")
    assert len(loaded.specs) == 20
    assert any("NoSuchAPI" in str(issue) for issue in loaded.issues)
    with pytest.raises(ValueError, match="NoSuchAPI"):
        load_pool("bfcl", "TradingBot,NoSuchAPI", strict=True)


def test_later_call_uses_an_earlier_calls_output_in_a_real_backend(bfcl_pool):
    names = [s.qualified_name for s in bfcl_pool.specs if s.tool_class == "MessageAPI"]
    with CallExecutor(bfcl_pool.new_session(names)) as executor:
        login = executor.execute(FunctionCall(name="message_login", arguments={"user_id": "USR001"}))
        assert login.ok, login.error
        lookup = executor.execute(FunctionCall(name="get_user_id", arguments={"user": "Catherine"}))
        assert lookup.ok, lookup.error
        receiver = lookup.output["user_id"]
        sent = executor.execute(FunctionCall(name="send_message", arguments={"receiver_id": receiver, "message": "hello"}))
        assert sent.ok and sent.output["sent_status"] is True, sent
        inbox = executor.execute(FunctionCall(name="view_messages_sent", arguments={}))
        assert inbox.ok
        assert "hello" in inbox.output["messages"][receiver]


def test_file_system_chain_and_structured_failures(bfcl_pool):
    names = [s.qualified_name for s in bfcl_pool.specs if s.tool_class == "GorillaFileSystem"]
    with CallExecutor(bfcl_pool.new_session(names)) as executor:
        results = executor.execute_all(
            [
                FunctionCall(name="mkdir", arguments={"dir_name": "reports"}),
                FunctionCall(name="cd", arguments={"folder": "reports"}),
                FunctionCall(name="touch", arguments={"file_name": "q3.txt"}),
                FunctionCall(name="echo", arguments={"content": "q3 budget", "file_name": "q3.txt"}),
            ]
        )
        assert all(result.ok for result in results), results
        listing = executor.execute(FunctionCall(name="ls", arguments={}))
        assert "q3.txt" in listing.output["current_directory_content"]
        content = executor.execute(FunctionCall(name="cat", arguments={"file_name": listing.output["current_directory_content"][0]}))
        assert content.output == {"file_content": "q3 budget"}
        missing = executor.execute(FunctionCall(name="cat", arguments={"file_name": "nope.txt"}))
        assert not missing.ok and missing.error_kind.value == "backend_error" and "nope.txt" in missing.error
        bad = executor.execute(FunctionCall(name="cd", arguments={"folder": 3}))
        assert bad.error_kind.value == "invalid_arguments"
        unknown = executor.execute(FunctionCall(name="system", arguments={"cmd": "id"}))
        assert unknown.error_kind.value == "unknown_function"


def test_sessions_are_isolated_and_start_from_a_copy_of_the_initial_state(bfcl_pool):
    names = [s.qualified_name for s in bfcl_pool.specs if s.tool_class == "GorillaFileSystem"]
    initial = {"GorillaFileSystem": {"root": {"alice": {"type": "directory", "contents": {"notes.txt": {"type": "file", "content": "v1"}}}}}}
    first, second = bfcl_pool.new_session(names, initial), bfcl_pool.new_session(names, initial)
    with CallExecutor(first) as a, CallExecutor(second) as b:
        assert a.execute(FunctionCall(name="echo", arguments={"content": "v2", "file_name": "notes.txt"})).ok
        assert a.execute(FunctionCall(name="touch", arguments={"file_name": "only_in_a.txt"})).ok
        assert a.execute(FunctionCall(name="cat", arguments={"file_name": "notes.txt"})).output == {"file_content": "v2"}
        assert b.execute(FunctionCall(name="cat", arguments={"file_name": "notes.txt"})).output == {"file_content": "v1"}
        assert "only_in_a.txt" not in b.execute(FunctionCall(name="ls", arguments={})).output["current_directory_content"]
    assert initial["GorillaFileSystem"]["root"]["alice"]["contents"]["notes.txt"]["content"] == "v1"
