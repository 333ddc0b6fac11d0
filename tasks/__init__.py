"""Prefect tasks: thin wrappers over `magnet_core` stages, one task per shard of items."""

import magnet_core  # noqa: F401  - applies the offline-safe environment defaults before Prefect starts
