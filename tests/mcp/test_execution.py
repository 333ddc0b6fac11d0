"""Execution through MCP: results mapped onto the executor's outcome, hostile servers become failed calls
with reasons, scenarios are isolated, probes leave no trace, and no server process outlives its session."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from magnet_core.domain import FunctionSignaturePath, Plan, PlanTurn
from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.trajectory import CallErrorKind, Reject
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools import load_pool
from magnet_core.translate.stage import TranslateConfig, translate_plans

MB = 1 << 20


def run(executor: CallExecutor, name: str, **arguments):
    return executor.execute(FunctionCall(name=name, arguments=arguments))


def test_text_structured_and_is_error_results_map_onto_success_and_failure(fault_pool):
    with CallExecutor(fault_pool.new_session()) as executor:
        assert run(executor, "echo", text="hello").output == "hello"
        added = run(executor, "add", a=2, b=3.5)
        assert added.ok and added.output == {"sum": 5.5}
        failed = run(executor, "fail", text="disk full")
        assert not failed.ok and failed.error_kind is CallErrorKind.BACKEND_ERROR and failed.error == "disk full"
        assert run(executor, "counter_increment", by=2).output == {"counter": 2}  # JSON text is parsed
        assert run(executor, "add", a="x", b=1).error_kind is CallErrorKind.INVALID_ARGUMENTS  # schema checked first


def test_scenarios_are_isolated_and_state_is_recorded_and_rebuilt(fault_pool):
    state = fault_pool.scenario_state(["magnet-faults"], seed=5)
    assert state == {"magnet-faults": {"kind": "workdir", "files": {}}}
    first, second = fault_pool.new_session(None, state), fault_pool.new_session(None, state)
    with CallExecutor(first) as a, CallExecutor(second) as b:
        assert run(a, "counter_increment", by=3).output == {"counter": 3}
        assert run(a, "counter_increment", by=3).output == {"counter": 6}
        assert run(b, "counter_increment", by=1).output == {"counter": 1}  # its own server, its own directory
    assert not first.root.exists() and not second.root.exists()  # temporary state removed on close


def test_probes_run_on_the_real_server_and_leave_no_trace(fault_pool):
    with CallExecutor(fault_pool.new_session()) as executor:
        run(executor, "counter_increment", by=1)
        scratch = copy.deepcopy(executor.session)
        assert scratch.invoke("counter_increment", {"by": 10}) == {"counter": 11}
        assert scratch.invoke("counter_increment", {"by": 10}) == {"counter": 11}  # restored after each probe
        assert run(executor, "counter_increment", by=1).output == {"counter": 2}


def test_crash_mid_answer_hang_and_huge_output_become_failed_calls_with_reasons(fault_pool):
    with CallExecutor(fault_pool.new_session(), timeout_s=30) as executor:
        huge = run(executor, "huge", megabytes=50)
        assert not huge.ok and huge.error_kind is CallErrorKind.BACKEND_ERROR
        assert "output larger than 2065536 bytes; answer dropped" in huge.error  # dropped while streaming in
        assert run(executor, "echo", text="still here").output == "still here"  # the server survives an oversized answer
        one_mb = run(executor, "huge", megabytes=1)  # small enough to read, too large to keep
        assert one_mb.error_kind is CallErrorKind.BACKEND_ERROR and "exceeds the limit of 1000000 bytes" in one_mb.error
        hung = run(executor, "hang")
        assert hung.error_kind is CallErrorKind.TIMEOUT and "no answer within 1.5s; the server was stopped" in hung.error
        after = run(executor, "echo", text="x")
        assert not after.ok and "stopped after hang gave no answer" in after.error
    with CallExecutor(fault_pool.new_session()) as executor:
        crashed = run(executor, "crash")
        assert not crashed.ok and "server exited with status 3" in crashed.error


def test_a_hostile_call_rejects_its_trajectory_with_the_reason(fault_pool):
    plans = [Plan(plan_id=f"hostile-{name}", path=FunctionSignaturePath(nodes=(f"magnet-faults.{name}",), seed=0),
                  turns=(PlanTurn(functions=("magnet-faults.add",)), PlanTurn(functions=(f"magnet-faults.{name}",))))
             for name in ("crash", "huge")]
    result = translate_plans(fault_pool, plans, TranslateConfig(probe_values=False))
    assert not result.translated and len(result.rejects) == 2
    by_plan = {reject.payload["plan_id"]: reject for reject in result.rejects}
    assert all(isinstance(r, Reject) and r.reason == "execution_error" for r in by_plan.values())
    assert "server exited with status 3" in by_plan["hostile-crash"].detail
    assert "output larger than" in by_plan["hostile-huge"].detail


def test_closing_a_session_stops_the_server_and_everything_it_started(fault_pool, procs):
    session = fault_pool.new_session()
    with CallExecutor(session) as executor:
        child = run(executor, "spawn_child").output["pid"]
        reaper = session.pids[0]
        assert procs.alive(child) and procs.alive(reaper)
    assert procs.wait_until_gone([child, reaper]) == []
    assert procs.reapers_of(os.getpid()) == []


def test_no_server_outlives_a_sigkilled_run(tmp_path, fault_source, procs):
    """The factory process is killed with SIGKILL (nothing of ours runs): the kernel's parent-death
    signal reaches each reaper, which kills and reaps its server's whole process group."""
    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f"""
        import json, sys
        from magnet_core.pools import load_pool
        pool = load_pool("mcp", {fault_source!r})
        sessions = [pool.new_session() for _ in range(2)]
        pids = []
        for session in sessions:
            session.start()
            pids += session.pids
            pids.append(session.invoke("spawn_child", {{}})["pid"])
        print(json.dumps(pids), flush=True)
        sys.stdin.read()
    """))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")]))}
    factory = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    try:
        pids = [int(pid) for pid in factory.stdout.readline().strip("[]\n").split(",")]
        assert len(pids) == 4 and all(procs.alive(pid) for pid in pids)
        factory.send_signal(signal.SIGKILL)
        factory.wait()
        assert procs.wait_until_gone(pids) == []
        assert procs.reapers_of(factory.pid) == []
    finally:
        factory.kill()


def test_a_streamable_http_server_is_a_pool_too(tmp_path):
    server = Path(__file__).resolve().parents[2] / "magnet_core" / "execution" / "mcp_fault_server.py"
    port_file = tmp_path / "port"
    process = subprocess.Popen([sys.executable, str(server), "--http", str(port_file)], stderr=subprocess.DEVNULL)
    try:
        while not (port_file.exists() and port_file.read_text()):
            assert process.poll() is None, "the HTTP server exited"
            time.sleep(0.05)  # waiting for the server to write its port, not timing anything
        pool = load_pool("mcp", f"http://127.0.0.1:{port_file.read_text()}/mcp")
        assert sorted(pool.classes()) == ["magnet-faults-http"] and {s.name for s in pool.specs} == {"echo", "add"}
        with CallExecutor(pool.new_session()) as executor:
            assert run(executor, "add", a=1, b=2).output == {"sum": 3.0}
    finally:
        process.kill()
        process.wait()
