"""Read the backend without touching it: scratch copies for harvesting state and trying candidate calls.

The offline call writer needs to know which files exist or which order ids are open. It learns that the
way a careful user would, by looking: it runs the class's own argument-free functions (`ls`, `find`,
`get_watchlist`, ...) and tries candidate calls, always on a deep copy of the scenario's session, so the
real session only ever sees the calls that end up in the data.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.trajectory import CallResult
from magnet_core.execution.backends import BackendSession
from magnet_core.execution.executor import CallExecutor
from magnet_core.roles.values import leaves
from magnet_core.verify.outcomes import strict_outcome

PROBE_TIMEOUT_S = 2.0


def scratch_copy(session: BackendSession) -> BackendSession | None:
    """A deep copy of the session's mutable objects (specs are immutable and shared), or None for
    backends whose objects cannot be copied."""
    memo: dict[int, Any] = {id(session.specs): session.specs}
    memo.update({id(spec): spec for spec in session.specs.values()})
    try:
        return copy.deepcopy(session, memo)
    except Exception:  # noqa: BLE001 - user backends may hold locks, sockets, ...; probing is then skipped
        return None


_LOCAL = threading.local()


def probe_call(session: BackendSession, call: FunctionCall) -> CallResult | None:
    """Run `call` on a scratch copy. One executor per thread serves every probe of that thread (its
    `decimal` context carries over between probes, as it always has); a probe that times out poisons
    only that executor, which is then replaced."""
    scratch = scratch_copy(session)
    if scratch is None:
        return None
    executor: CallExecutor | None = getattr(_LOCAL, "executor", None)
    if executor is None or executor.poisoned:
        if executor is not None:
            executor.close()
        executor = _LOCAL.executor = CallExecutor(scratch, timeout_s=PROBE_TIMEOUT_S)
    executor.session = scratch
    return strict_outcome(executor.execute(call))


def harvest_state(session: BackendSession, limit_functions: int = 16) -> list[tuple[str, Any]]:
    """(key, value) leaves of the session's state and of its argument-free functions' outputs."""
    found: list[tuple[str, Any]] = []
    for attributes in session.state().values():  # tool class -> public attributes; attribute names are not values
        if isinstance(attributes, dict):
            for name, value in attributes.items():
                found.extend(leaves(value, name))
    readers = [spec for spec in session.specs.values() if not spec.required_params][:limit_functions]
    for spec in sorted(readers, key=lambda s: s.name):
        result = probe_call(session, FunctionCall(name=spec.name, arguments={}))
        if result is not None and result.ok:
            found.extend(leaves(result.output, spec.name))
    return found
