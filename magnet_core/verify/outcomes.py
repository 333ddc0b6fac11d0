"""When an executed call counts as failed, stricter than the executor's rule.

The executor treats exactly `{"error": ...}` as a backend error. Some BFCL backends report failure
alongside other keys (`{"booking_status": False, "error": "Insufficient funds"}`); data must not keep
such a call as a success, so a non-empty `error` key anywhere at the top level fails it too.
"""

from __future__ import annotations

from magnet_core.domain.trajectory import CallErrorKind, CallResult


def strict_outcome(result: CallResult) -> CallResult:
    output = result.output
    if result.ok and isinstance(output, dict) and output.get("error"):
        return CallResult(call=result.call, ok=False, output=output, error=str(output["error"]),
                          error_kind=CallErrorKind.BACKEND_ERROR, simulated=result.simulated, duration_s=result.duration_s)
    return result
