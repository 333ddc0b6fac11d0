"""Probe snapshots: every scratch copy starts from the session as it was, shares nothing mutable with it
or with other copies, and behaves like a deep copy; sessions that pickling would copy differently get
deep copies."""

from __future__ import annotations

import threading

from magnet_core.domain import FunctionCall
from magnet_core.execution.backends import InstanceBackendSession
from magnet_core.execution.executor import CallExecutor
from magnet_core.roles.probe import Snapshot, probe_call, scratch_copy


def _file_system(bfcl_pool):
    names = sorted(spec.qualified_name for spec in bfcl_pool.class_specs("GorillaFileSystem"))
    state = {"GorillaFileSystem": {"root": {"alex": {"type": "directory", "contents": {
        "notes.txt": {"type": "file", "content": "hello"}}}}}}
    return bfcl_pool.new_session(names, state)


def test_scratch_copies_are_independent_and_behave_like_deep_copies(bfcl_pool):
    session = _file_system(bfcl_pool)
    snapshot = Snapshot(session)
    first, second = snapshot.scratch(), snapshot.scratch()
    assert first is not session and first.specs is session.specs  # specs shared, objects copied
    with CallExecutor(first) as executor:
        assert executor.execute(FunctionCall(name="mkdir", arguments={"dir_name": "made"})).ok
    listing = FunctionCall(name="ls", arguments={})
    with CallExecutor(second) as on_second, CallExecutor(session) as on_session:
        assert "made" not in on_second.execute(listing).output["current_directory_content"]
        assert "made" not in on_session.execute(listing).output["current_directory_content"]
    with CallExecutor(first) as on_first, CallExecutor(scratch_copy(session)) as on_deep_copy:
        assert on_first.execute(listing).output["current_directory_content"] == ["notes.txt", "made"]
        assert on_deep_copy.execute(listing).output == {"current_directory_content": ["notes.txt"]}
    assert probe_call(snapshot, FunctionCall(name="cat", arguments={"file_name": "notes.txt"})).output == {"file_content": "hello"}


class _CountsDeepCopies:
    copies = 0

    def __deepcopy__(self, memo):
        type(self).copies += 1
        return _CountsDeepCopies()

    def peek(self) -> dict:
        return {"ok": True}


class _HoldsALock:
    def __init__(self):
        self.lock = threading.Lock()

    def peek(self) -> dict:
        return {"ok": True}


def test_objects_with_their_own_deepcopy_are_deep_copied_and_unpicklable_ones_are_not_probed(bfcl_pool):
    spec = bfcl_pool.class_specs("MathAPI")[0].model_copy(update={"name": "peek", "tool_class": None,
                                                                  "parameters": {"type": "object", "properties": {}}})
    custom = InstanceBackendSession([spec], {None: _CountsDeepCopies()})
    Snapshot(custom).scratch()
    assert _CountsDeepCopies.copies == 1
    locked = InstanceBackendSession([spec], {None: _HoldsALock()})
    assert Snapshot(locked).scratch() is None and scratch_copy(locked) is None
    assert probe_call(Snapshot(locked), FunctionCall(name="peek", arguments={})) is None
