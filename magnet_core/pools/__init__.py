"""Function pools: loaders behind one interface (`load_pool`)."""

from magnet_core.pools.base import FunctionPool, PoolIssue, PoolLoadError
from magnet_core.pools.registry import POOL_KINDS, load_pool

__all__ = ["FunctionPool", "PoolIssue", "PoolLoadError", "POOL_KINDS", "load_pool"]
