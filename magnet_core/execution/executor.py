"""Run parsed calls against a backend session with a time limit, turning every failure into a record.

Backends are code we do not control (BFCL's classes, user classes); a call may raise, hang or return a
BFCL-style {"error": ...}. The executor never raises for those: it returns a failed `CallResult` with a
kind and a reason, so a trajectory that fails is dropped with that reason instead of crashing a shard.
A call that times out leaves its thread running with the session's objects in an unknown state, so the
session is poisoned and refuses further calls.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import jsonschema

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.trajectory import CallErrorKind, CallResult
from magnet_core.execution.backends import BackendSession

DEFAULT_CALL_TIMEOUT_S = 5.0


class CallExecutor:
    def __init__(self, session: BackendSession, timeout_s: float = DEFAULT_CALL_TIMEOUT_S, validate_arguments: bool = True):
        self.session = session
        self.timeout_s = timeout_s
        # Off for evaluation only: BFCL runs calls whose argument types differ from the schema and lets
        # the backend accept or raise, so its verdicts need the call executed as written.
        self.validate_arguments = validate_arguments
        self.poisoned: str | None = None
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="magnet-call")

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
        self.session.close()

    def __enter__(self) -> "CallExecutor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, call: FunctionCall) -> CallResult:
        if self.poisoned:
            return _failed(call, CallErrorKind.SESSION_POISONED, self.poisoned)
        spec = self.session.specs.get(call.name)
        if spec is None:
            offered = ", ".join(sorted(self.session.specs)) or "none"
            return _failed(call, CallErrorKind.UNKNOWN_FUNCTION, f"no function {call.name!r} is offered (offered: {offered})")
        problem = argument_problem(spec.parameters, call.arguments) if self.validate_arguments else None
        if problem:
            return _failed(call, CallErrorKind.INVALID_ARGUMENTS, problem)
        started = time.perf_counter()
        future = self._worker.submit(self.session.invoke, call.name, call.arguments)
        try:
            output = future.result(timeout=self.timeout_s)
        except FutureTimeout:
            self.poisoned = f"{call.name} exceeded {self.timeout_s:.1f}s; session state is unknown"
            return _failed(call, CallErrorKind.TIMEOUT, self.poisoned, time.perf_counter() - started)
        except Exception as error:  # noqa: BLE001 - backend code is untrusted; every failure becomes a record
            kind = getattr(error, "error_kind", None)  # backends that know the category (MCP: timeout, oversize) say so
            if isinstance(kind, CallErrorKind):
                return _failed(call, kind, str(error), time.perf_counter() - started)
            return _failed(call, CallErrorKind.EXCEPTION, f"{type(error).__name__}: {error}", time.perf_counter() - started)
        elapsed = time.perf_counter() - started
        try:
            output = _jsonable(output)
        except (TypeError, ValueError, RecursionError) as error:  # e.g. power(180, 7200): an int too long for JSON
            return _failed(call, CallErrorKind.EXCEPTION, f"output not serialisable: {type(error).__name__}: {str(error)[:300]}",
                           elapsed)
        if isinstance(output, dict) and set(output) == {"error"}:
            return _failed(call, CallErrorKind.BACKEND_ERROR, str(output["error"]), elapsed)
        return CallResult(call=call, ok=True, output=output, simulated=self.session.simulated, duration_s=elapsed)

    def execute_all(self, calls: list[FunctionCall]) -> list[CallResult]:
        return [self.execute(call) for call in calls]


def argument_problem(parameters: dict[str, Any], arguments: dict[str, Any]) -> str | None:
    """The first way `arguments` break the parameter schema, or None. Unknown parameters are errors."""
    properties = parameters.get("properties", {})
    unknown = sorted(set(arguments) - set(properties))
    if unknown and parameters.get("additionalProperties", False) is False:
        return f"unknown parameter(s) {unknown}; expected some of {sorted(properties)}"
    validator = jsonschema.Draft202012Validator(parameters)
    error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or "arguments"
    return f"{where}: {error.message}"


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _failed(call: FunctionCall, kind: CallErrorKind, reason: str, duration: float = 0.0) -> CallResult:
    return CallResult(call=call, ok=False, error=reason, error_kind=kind, duration_s=duration)
