"""Process-wide defaults that keep the factory offline-safe.

litellm fetches its price map from the network at import unless told otherwise, and the embedded
Prefect server needs more than its 20 s default to start on a small machine. Hugging Face hub access is
left alone: "offline" means no teacher model, and a user training a hub model must be able to fetch it.
Users can override any of these by setting the variable before import.
"""

import os

DEFAULTS: dict[str, str] = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}


def apply() -> None:
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
