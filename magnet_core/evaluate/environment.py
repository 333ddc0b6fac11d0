"""A case's live BFCL backends, run with the project's executor, and BFCL's result-string format.

BFCL executes model calls with `eval()` on instances held in module globals; we build the same
instances (`bfcl_instance`, long-context loading included) and call their methods through
`CallExecutor`, which validates arguments and turns every failure into a record. Every function of
the involved classes is executable, also ones withheld from the tool list (BFCL maps every public
method of the involved instances too), so calling a withheld function is judged, not crashed.
"""

from __future__ import annotations

import json
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.domain.trajectory import CallErrorKind, CallResult
from magnet_core.evaluate.bfcl_data import EvalCase
from magnet_core.execution.backends import InstanceBackendSession
from magnet_core.execution.executor import CallExecutor
from magnet_core.pools.bfcl import bfcl_instance


class CaseEnvironment:
    """Fresh backend instances for one case; `instances` is what BFCL's state checker compares."""

    def __init__(self, case: EvalCase, specs: list[FunctionSpec]):
        self.instances: dict[str, Any] = {
            tool_class: bfcl_instance(tool_class, case.initial_config.get(tool_class, {}), long_context=case.long_context)
            for tool_class in case.involved_classes
        }
        involved = [spec for spec in specs if spec.tool_class in self.instances]
        self.executor = CallExecutor(InstanceBackendSession(involved, dict(self.instances)))

    def execute(self, calls: list[FunctionCall]) -> list[CallResult]:
        return self.executor.execute_all(calls)

    def close(self) -> None:
        self.executor.close()

    def __enter__(self) -> "CaseEnvironment":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def bfcl_result_text(result: CallResult) -> str:
    """The string BFCL's executor would record for this outcome, for BFCL's response checker.

    BFCL keeps strings as they are, JSON-dumps dicts (a backend's {"error": ...} included) and `str()`s
    anything else; a raised exception becomes "Error during execution: ...". Our executor also refuses
    calls that break the parameter schema or name no offered function; those read as execution errors.
    """
    if result.ok:
        output = result.output
        if isinstance(output, str):
            return output
        if isinstance(output, dict):
            return json.dumps(output)
        return str(output)
    if result.error_kind is CallErrorKind.BACKEND_ERROR:
        return json.dumps({"error": result.error})
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
