"""`CallExecutor.aexecute`: a hung backend call never stalls the event loop, still times out and poisons
only its own session, and calls of different sessions never overlap (process-global backend state)."""

from __future__ import annotations

import asyncio
import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from magnet_core.domain import FunctionCall
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools import load_pool

GATE_SOURCE = textwrap.dedent(
    '''
    import threading

    STARTED = threading.Event()
    RELEASE = threading.Event()
    ARRIVED = threading.Event()


    class Gate:
        """A backend whose calls the test controls."""

        def hold(self) -> dict:
            """Block until the test releases the gate."""
            STARTED.set()
            RELEASE.wait(120)
            return {"released": True}

        def echo(self, text: str) -> dict:
            """Answer at once.

            Args:
                text: What to send back.
            """
            return {"text": text}

        def meet(self, role: str) -> dict:
            """'first' waits a while for a 'second' call; it only meets one that runs at the same time.

            Args:
                role: first or second.
            """
            if role == "second":
                ARRIVED.set()
                return {"met": None}
            return {"met": ARRIVED.wait(0.5)}
    '''
)


@pytest.fixture
def gate(tmp_path: Path, monkeypatch):
    (tmp_path / "magnet_test_gate.py").write_text(GATE_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "magnet_test_gate", raising=False)
    pool = load_pool("python", "magnet_test_gate:Gate")
    module = importlib.import_module("magnet_test_gate")
    yield pool, module
    module.RELEASE.set()  # let the abandoned worker thread finish


def test_a_hung_call_times_out_without_stalling_other_coroutines(gate):
    pool, module = gate
    hung_executor = CallExecutor(pool.new_session(), timeout_s=1.0)
    other_executor = CallExecutor(pool.new_session())

    async def scenario():
        hung_task = asyncio.ensure_future(hung_executor.aexecute(FunctionCall(name="hold", arguments={})))
        assert await asyncio.to_thread(module.STARTED.wait, 60)
        loop_was_free = not hung_task.done()  # this coroutine ran while the backend call was blocked
        other = await other_executor.aexecute(FunctionCall(name="echo", arguments={"text": "still here"}))
        hung = await hung_task
        after = await hung_executor.aexecute(FunctionCall(name="echo", arguments={"text": "x"}))
        return loop_was_free, other, hung, after

    loop_was_free, other, hung, after = asyncio.run(scenario())
    assert loop_was_free
    assert hung.error_kind.value == "timeout" and "hold exceeded 1.0s" in hung.error
    assert after.error_kind.value == "session_poisoned"
    assert other.ok and other.output == {"text": "still here"}  # a fresh worker took over from the hung one
    assert other_executor.execute(FunctionCall(name="echo", arguments={"text": "sync"})).output == {"text": "sync"}


def test_calls_of_different_sessions_take_turns(gate):
    pool, _ = gate
    first, second = CallExecutor(pool.new_session(), timeout_s=30), CallExecutor(pool.new_session(), timeout_s=30)

    async def both():
        return await asyncio.gather(first.aexecute(FunctionCall(name="meet", arguments={"role": "first"})),
                                    second.aexecute(FunctionCall(name="meet", arguments={"role": "second"})))

    met, arrived = asyncio.run(both())
    assert met.ok and arrived.ok
    assert met.output == {"met": False}  # 'second' only ran once 'first' had returned


def test_async_and_sync_execution_give_the_same_records(bfcl_pool):
    names = sorted(spec.qualified_name for spec in bfcl_pool.class_specs("MathAPI"))
    calls = [FunctionCall(name="logarithm", arguments={"value": 10.0, "base": 3.0, "precision": 30}),
             FunctionCall(name="square_root", arguments={"number": 2.0, "precision": 40}),
             FunctionCall(name="mean", arguments={"numbers": []}),
             FunctionCall(name="no_such_function", arguments={})]

    def records(results):
        return [(r.ok, r.output, r.error, r.error_kind) for r in results]

    with CallExecutor(bfcl_pool.new_session(names)) as sync_executor:
        expected = records(sync_executor.execute_all(calls))
    with CallExecutor(bfcl_pool.new_session(names)) as async_executor:
        got = records(asyncio.run(async_executor.aexecute_all(calls)))
    assert got == expected
    assert expected[0][1]["result"].startswith("2.0959032742893846")  # rendered at the precision the call set
    assert [kind.value for *_, kind in expected[2:]] == ["backend_error", "unknown_function"]
