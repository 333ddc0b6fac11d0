"""Import litellm offline: no network at import or on the first call.

litellm fetches its model price map from GitHub at import unless `LITELLM_LOCAL_MODEL_COST_MAP=True`;
offline machines would stall on that request, and the price map must not change under a running
factory. Telemetry and debug banners are switched off for the same reasons.
"""

from __future__ import annotations

import os
from functools import lru_cache
from types import ModuleType


@lru_cache(maxsize=1)
def import_litellm() -> ModuleType:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # forced: a run must never fetch prices mid-way
    os.environ.setdefault("LITELLM_TELEMETRY", "False")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    return litellm
