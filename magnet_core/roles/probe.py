"""Read the backend without touching it: scratch copies for harvesting state and trying candidate calls.

The offline call writer needs to know which files exist or which order ids are open. It learns that the
way a careful user would, by looking: it runs the class's own argument-free functions (`ls`, `find`,
`get_watchlist`, ...) and tries candidate calls, always on a deep copy of the scenario's session, so the
real session only ever sees the calls that end up in the data. One written call probes the same unchanged
session many times, so `Snapshot` pickles it once and unpickles each copy (a deepcopy per probe was most
of a probe's cost); objects that define their own `__deepcopy__`, or do not pickle, get deep copies.
"""

from __future__ import annotations

import copy
import io
import pickle
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


class Snapshot:
    """Scratch copies of one session as it is now; valid while nothing calls the session itself."""

    def __init__(self, session: BackendSession):
        self.session = session
        self._data = _pickled(session)

    def scratch(self) -> BackendSession | None:
        if self._data is None:
            return scratch_copy(self.session)
        return _SpecsUnpickler(io.BytesIO(self._data), self.session.specs).load()


class _DeepcopyOnly(Exception):
    pass


class _SpecsPickler(pickle.Pickler):
    """Specs are immutable and shared by every copy (as in `scratch_copy`), so they are referred to, not copied."""

    def __init__(self, file: io.BytesIO, specs: dict[str, Any]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = {id(specs): "", **{id(spec): name for name, spec in specs.items()}}

    def persistent_id(self, obj: Any) -> str | None:
        return self._shared.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        if hasattr(type(obj), "__deepcopy__"):  # a copy that pickling would not reproduce
            raise _DeepcopyOnly(type(obj).__name__)
        return NotImplemented


class _SpecsUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, specs: dict[str, Any]):
        super().__init__(file)
        self._specs = specs

    def persistent_load(self, pid: str) -> Any:
        return self._specs if pid == "" else self._specs[pid]


def _pickled(session: BackendSession) -> bytes | None:
    buffer = io.BytesIO()
    try:
        _SpecsPickler(buffer, session.specs).dump(session)
    except Exception:  # noqa: BLE001 - locks, sockets, lambdas, own __deepcopy__: every copy is then a deepcopy
        return None
    return buffer.getvalue()


_LOCAL = threading.local()


def probe_call(session: BackendSession | Snapshot, call: FunctionCall) -> CallResult | None:
    """Run `call` on a scratch copy. One executor per thread serves every probe of that thread (its
    `decimal` context carries over between probes, as it always has); a probe that times out poisons
    only that executor, which is then replaced."""
    scratch = session.scratch() if isinstance(session, Snapshot) else scratch_copy(session)
    if scratch is None:
        return None
    executor: CallExecutor | None = getattr(_LOCAL, "executor", None)
    if executor is None or executor.poisoned:
        if executor is not None:
            executor.close()
        executor = _LOCAL.executor = CallExecutor(scratch, timeout_s=PROBE_TIMEOUT_S)
    executor.session = scratch
    return strict_outcome(executor.execute(call))


def harvest_state(snapshot: Snapshot, limit_functions: int = 16) -> list[tuple[str, Any]]:
    """(key, value) leaves of the session's state and of its argument-free functions' outputs."""
    session = snapshot.session
    found: list[tuple[str, Any]] = []
    for attributes in session.state().values():  # tool class -> public attributes; attribute names are not values
        if isinstance(attributes, dict):
            for name, value in attributes.items():
                found.extend(leaves(value, name))
    readers = [spec for spec in session.specs.values() if not spec.required_params][:limit_functions]
    for spec in sorted(readers, key=lambda s: s.name):
        result = probe_call(snapshot, FunctionCall(name=spec.name, arguments={}))
        if result is not None and result.ok:
            found.extend(leaves(result.output, spec.name))
    return found
