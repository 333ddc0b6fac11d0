"""A case's live BFCL backends, run with the project's executor, rendered as BFCL renders them.

BFCL executes model calls with `eval()` on instances held in module globals; we build the same
instances (`bfcl_instance`, long-context loading included) and call their methods through
`CallExecutor` (never `eval`). To judge like BFCL the executor runs here without its schema check
(BFCL runs `unlock=0` or `'2857.14'` and lets the backend accept or raise), and every outcome is
turned into BFCL's result string inside the call itself (`BfclSession.invoke`): strings as they are,
dicts as `json.dumps` falling back to `str(dict)`, anything else `str()`, a raised exception as
"Error during execution: ...". Rendering at once matters: MathAPI's mpmath values print at the global
precision of the moment, so they are rendered right after the call, under a lock, as BFCL does.
Every function of the involved classes is executable, also ones withheld from the tool list (BFCL
maps every public method of the involved instances too), so calling a withheld function is judged.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import CallErrorKind, CallResult
from magnet_core.evaluate.bfcl_data import EvalCase
from magnet_core.execution.backends import InstanceBackendSession
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools.bfcl import bfcl_instance


# Names BFCL's executor refuses before `eval` (multi_turn_utils.execute_multi_turn_func_call).
BFCL_REFUSED_NAMES = frozenset({"kill", "exit", "quit", "remove", "unlink", "popen", "Popen", "run"})
# mpmath's precision is process-global: a MathAPI call sets it, computes, and its result is rendered
# at that precision. One MathAPI call at a time keeps concurrent cases from mixing precisions.
_MATH_LOCK = threading.Lock()
_MATH_WAIT_S = 30.0


def bfcl_render(value: Any) -> str:
    """BFCL's rendering of one raw backend return value (exact types, as its executor checks them)."""
    if type(value) == str:  # noqa: E721 - BFCL compares exact types; a str subclass goes through str()
        return value
    if type(value) == dict:  # noqa: E721
        try:
            return json.dumps(value)
        except Exception:  # noqa: BLE001 - BFCL falls back on any failure (mpf values, objects)
            return str(value)
    return str(value)


class BfclSession(InstanceBackendSession):
    """Returns BFCL's result string for every call, exceptions included, so nothing is lost to JSON."""

    def invoke(self, name: str, arguments: dict[str, Any]) -> str:
        if name in BFCL_REFUSED_NAMES:
            return f"Error during execution: Function call {name} is not allowed."
        if self.specs[name].tool_class != "MathAPI":
            return self._rendered(name, arguments)
        if not _MATH_LOCK.acquire(timeout=_MATH_WAIT_S):  # a hung MathAPI call elsewhere holds it
            raise TimeoutError(f"MathAPI busy for {_MATH_WAIT_S:.0f}s")
        try:
            return self._rendered(name, arguments)
        finally:
            _MATH_LOCK.release()

    def _rendered(self, name: str, arguments: dict[str, Any]) -> str:
        try:
            return bfcl_render(super().invoke(name, arguments))
        except Exception as error:  # noqa: BLE001 - BFCL records any raised error as a result string
            return f"Error during execution: {error}"


class CaseEnvironment:
    """Fresh backend instances for one case; `instances` is what BFCL's state checker compares."""

    def __init__(self, case: EvalCase, specs: list[FunctionSpec]):
        self.instances: dict[str, Any] = {
            tool_class: bfcl_instance(tool_class, case.initial_config.get(tool_class, {}), long_context=case.long_context)
            for tool_class in case.involved_classes
        }
        involved = [spec for spec in specs if spec.tool_class in self.instances]
        self.executor = CallExecutor(BfclSession(involved, dict(self.instances)), validate_arguments=False)

    def execute(self, calls: list[FunctionCall]) -> list[CallResult]:
        return self.executor.execute_all(calls)

    def close(self) -> None:
        self.executor.close()

    def __enter__(self) -> "CaseEnvironment":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bfcl_result_text(result: CallResult) -> str:
    """The string BFCL's executor records for this outcome (what the model reads and the checker compares).

    A call that ran carries its BFCL rendering already (`BfclSession`). A name no involved class
    offers is a `NameError` inside BFCL's `eval` (or a refusal for its blocked names); a call that hit
    our time limit has no BFCL counterpart and reads as an execution error.
    """
    if result.ok:
        return result.output if isinstance(result.output, str) else bfcl_render(result.output)
    if result.error_kind is CallErrorKind.UNKNOWN_FUNCTION:
        name = result.call.name
        if name in BFCL_REFUSED_NAMES:
            return f"Error during execution: Function call {name} is not allowed."
        return f"Error during execution: name '{name}' is not defined"
    return f"Error during execution: {result.error}"


def offered_specs(case: EvalCase, specs: list[FunctionSpec], turn_index: int) -> list[FunctionSpec]:
    """The tool list at a turn, in BFCL order: involved classes' docs, withheld functions appended
    (in their holdout order) from the turn at which BFCL adds them."""
    withheld = case.withheld_names
    offered = [spec for tool_class in case.involved_classes for spec in specs if spec.tool_class == tool_class and spec.name not in withheld]
    by_name = {spec.name: spec for spec in specs if spec.tool_class in case.involved_classes}
    for holdout_turn in sorted(case.missed_function):
        if holdout_turn <= turn_index:
            offered.extend(by_name[name] for name in case.missed_function[holdout_turn])
    return offered
