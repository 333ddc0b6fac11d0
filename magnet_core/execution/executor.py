"""Run parsed calls against a backend session with a time limit, turning every failure into a record.

Backends are code we do not control (BFCL's classes, user classes); a call may raise, hang or return a
BFCL-style {"error": ...}. The executor never raises for those: it returns a failed `CallResult` with a
kind and a reason, so a trajectory that fails is dropped with that reason instead of crashing a shard.
A call that times out leaves its thread running with the session's objects in an unknown state, so the
session is poisoned and refuses further calls, and that thread is abandoned.

Calls run on one worker thread per calling thread, reused by every executor of that thread (starting a
thread per sample cost more than the calls), one call at a time: BFCL's MathAPI sets mpmath's
process-wide precision, so two sessions' calls must never overlap, and the output is rendered to JSON
in the worker right after the call, at the precision that call set. `execute` blocks its caller;
`aexecute` (for coroutines) awaits the same worker, so the event loop keeps serving other coroutines
while a call runs, and async calls of one loop take turns on a lock, so a call's time limit never
counts the wait behind another. Each executor keeps its own `decimal` context across its calls, as
when it had a thread of its own.
"""

from __future__ import annotations

import asyncio
import decimal
import json
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from typing import Any

import jsonschema

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.trajectory import CallErrorKind, CallResult
from magnet_core.execution.backends import BackendSession

DEFAULT_CALL_TIMEOUT_S = 5.0

_LOCAL = threading.local()
_LOOP_TURNS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = weakref.WeakKeyDictionary()


def _worker() -> ThreadPoolExecutor:
    """The calling thread's call worker (started on first use, replaced after a timeout)."""
    worker = getattr(_LOCAL, "worker", None)
    if worker is None:
        worker = _LOCAL.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magnet-call")
    return worker


def _abandon(worker: ThreadPoolExecutor) -> None:
    """Leave a worker whose call hangs; the calling thread's next call starts a fresh one."""
    if getattr(_LOCAL, "worker", None) is worker:
        _LOCAL.worker = None
    worker.shutdown(wait=False)


def _loop_turn() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _LOOP_TURNS.get(loop)
    if lock is None:
        lock = _LOOP_TURNS[loop] = asyncio.Lock()
    return lock


class CallExecutor:
    def __init__(self, session: BackendSession, timeout_s: float = DEFAULT_CALL_TIMEOUT_S, validate_arguments: bool = True):
        self.session = session
        self.timeout_s = timeout_s
        # Off for evaluation only: BFCL runs calls whose argument types differ from the schema and lets
        # the backend accept or raise, so its verdicts need the call executed as written.
        self.validate_arguments = validate_arguments
        self.poisoned: str | None = None
        self._decimal = decimal.Context()  # what a fresh thread starts with (MathAPI.square_root sets its precision)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "CallExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, call: FunctionCall) -> CallResult:
        refused = self._refusal(call)
        if refused is not None:
            return refused
        started = time.perf_counter()
        worker = _worker()
        future = self._submit(worker, call)
        try:
            outcome = future.result(timeout=self.timeout_s)
        except Exception as error:  # noqa: BLE001 - backend code is untrusted; every failure becomes a record
            return self._failure(worker, future, call, error, started)
        return self._result(call, outcome, time.perf_counter() - started)

    async def aexecute(self, call: FunctionCall) -> CallResult:
        """`execute` for coroutines: the loop runs other coroutines while the call runs."""
        refused = self._refusal(call)
        if refused is not None:
            return refused
        async with _loop_turn():
            if self.poisoned:  # another coroutine of this executor timed out while this one waited
                return _failed(call, CallErrorKind.SESSION_POISONED, self.poisoned)
            started = time.perf_counter()
            worker = _worker()
            future = self._submit(worker, call)
            try:
                outcome = await asyncio.wait_for(asyncio.wrap_future(future), self.timeout_s)
            except Exception as error:  # noqa: BLE001 - backend code is untrusted; every failure becomes a record
                return self._failure(worker, future, call, error, started)
        return self._result(call, outcome, time.perf_counter() - started)

    def execute_all(self, calls: list[FunctionCall]) -> list[CallResult]:
        return [self.execute(call) for call in calls]

    async def aexecute_all(self, calls: list[FunctionCall]) -> list[CallResult]:
        return [await self.aexecute(call) for call in calls]

    def _refusal(self, call: FunctionCall) -> CallResult | None:
        """The failed result for a call that is not run at all (poisoned session, unknown name, bad arguments)."""
        if self.poisoned:
            return _failed(call, CallErrorKind.SESSION_POISONED, self.poisoned)
        spec = self.session.specs.get(call.name)
        if spec is None:
            offered = ", ".join(sorted(self.session.specs)) or "none"
            return _failed(call, CallErrorKind.UNKNOWN_FUNCTION, f"no function {call.name!r} is offered (offered: {offered})")
        problem = argument_problem(spec.parameters, call.arguments) if self.validate_arguments else None
        return _failed(call, CallErrorKind.INVALID_ARGUMENTS, problem) if problem else None

    def _submit(self, worker: ThreadPoolExecutor, call: FunctionCall) -> Future:
        return worker.submit(_run_rendered, self.session, call, self._decimal)

    def _failure(self, worker: ThreadPoolExecutor, future: Future, call: FunctionCall, error: Exception,
                 started: float) -> CallResult:
        """A call still running when its time was up (not an error the backend raised, TimeoutError included)."""
        if future.done() and not future.cancelled():
            return _raised(call, error, time.perf_counter() - started)
        _abandon(worker)
        self.poisoned = f"{call.name} exceeded {self.timeout_s:.1f}s; session state is unknown"
        return _failed(call, CallErrorKind.TIMEOUT, self.poisoned, time.perf_counter() - started)

    def _result(self, call: FunctionCall, outcome: tuple[Any, Exception | None], elapsed: float) -> CallResult:
        output, unrenderable = outcome
        if isinstance(unrenderable, _RenderCrash):
            raise unrenderable.error  # not a call failure: it escapes `execute`, as it did when rendering ran here
        if unrenderable is not None:  # e.g. power(180, 7200): an int too long for JSON
            return _failed(call, CallErrorKind.EXCEPTION,
                           f"output not serialisable: {type(unrenderable).__name__}: {str(unrenderable)[:300]}", elapsed)
        if isinstance(output, dict) and set(output) == {"error"}:
            return _failed(call, CallErrorKind.BACKEND_ERROR, str(output["error"]), elapsed)
        return CallResult(call=call, ok=True, output=output, simulated=self.session.simulated, duration_s=elapsed)


def _run_rendered(session: BackendSession, call: FunctionCall, context: decimal.Context) -> tuple[Any, Exception | None]:
    """In the worker: the call, then its output as JSON (or why it has none); the backend's own errors raise."""
    decimal.setcontext(context)
    output = session.invoke(call.name, call.arguments)
    try:
        return _jsonable(output), None
    except (TypeError, ValueError, RecursionError) as error:
        return None, error
    except Exception as error:  # noqa: BLE001 - e.g. a __str__ that raises: handed to the caller to raise
        return None, _RenderCrash(error)


class _RenderCrash(Exception):
    """A rendering error other than 'not serialisable', carried out of the worker to be raised by the caller."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _raised(call: FunctionCall, error: Exception, elapsed: float) -> CallResult:
    kind = getattr(error, "error_kind", None)  # backends that know the category (MCP: timeout, oversize) say so
    if isinstance(kind, CallErrorKind):
        return _failed(call, kind, str(error), elapsed)
    return _failed(call, CallErrorKind.EXCEPTION, f"{type(error).__name__}: {error}", elapsed)


def argument_problem(parameters: dict[str, Any], arguments: dict[str, Any]) -> str | None:
    """The first way `arguments` break the parameter schema, or None. Unknown parameters are errors."""
    properties = parameters.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown and parameters.get("additionalProperties", False) is False:
        return f"unknown parameter(s) {unknown}; expected some of {sorted(properties)}"
    validator = _validator(json.dumps(parameters, sort_keys=True, default=str))
    error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "arguments"
    return f"{where}: {error.message}"


@lru_cache(maxsize=4096)
def _validator(schema_json: str) -> jsonschema.protocols.Validator:
    """One validator per schema (keyed by its canonical JSON, so an edited dict is a new schema): building
    one per call cost more than validating."""
    return jsonschema.Draft202012Validator(json.loads(schema_json))


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _failed(call: FunctionCall, kind: CallErrorKind, reason: str, duration: float = 0.0) -> CallResult:
    return CallResult(call=call, ok=False, error=reason, error_kind=kind, duration_s=duration)
