"""Prefect flows over the factory: one per stage and the pipeline that composes them."""

import magnet_core  # noqa: F401  - applies the offline-safe environment defaults before Prefect starts
