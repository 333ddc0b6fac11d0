"""Fixtures of the graph area: the BFCL graph built once, and small pools built from hand-written specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from magnet_core.domain.functions import FunctionSpec
from magnet_core.pools.base import FunctionPool

LABELS = Path(__file__).parent / "bfcl_dependency_labels.json"


@pytest.fixture(scope="session")
def bfcl_graph(bfcl_pool):
    from magnet_core.graph.stage import GraphStageConfig, build_graph

    return build_graph(bfcl_pool, GraphStageConfig())


def spec(name: str, params: dict | None = None, required: list[str] | None = None, outputs: dict | None = None,
         tool_class: str = "Shop", description: str = "") -> FunctionSpec:
    params = params or {}
    return FunctionSpec(
        name=name,
        description=description or f"{name.replace('_', ' ')}.",
        parameters={"type": "object", "properties": params, "required": required if required is not None else sorted(params)},
        response={"type": "object", "properties": outputs or {}},
        tool_class=tool_class,
        source_pool="test",
        executable=False,
    )


def make_pool(specs: list[FunctionSpec], name: str = "hand") -> FunctionPool:
    def not_executable(specs, state):
        raise RuntimeError("hand-made test pool has no implementations")

    return FunctionPool(name=name, kind="test", source="tests", specs=tuple(specs), session_factory=not_executable, simulated=True)


@pytest.fixture
def shop_pool() -> FunctionPool:
    """A small class whose dependencies are known by construction."""
    string = {"type": "string"}
    return make_pool([
        spec("shop_login", {"username": {"type": "string", "description": "Username of the user."}, "password": string},
             outputs={"login_status": {"type": "boolean"}}, description="Log in the user to the shop."),
        spec("find_product", {"keyword": {"type": "string", "description": "Keyword to search for."}},
             outputs={"product_id": {"type": "string", "description": "ID of the best matching product."}}),
        spec("get_price", {"product_id": {"type": "string", "description": "ID of the product."}},
             outputs={"price": {"type": "number", "description": "Price of the product."}}),
        spec("add_to_cart", {"product_id": {"type": "string", "description": "ID of the product to add."}, "quantity": {"type": "integer"}},
             outputs={"cart_id": {"type": "string", "description": "ID of the cart."}}),
        spec("checkout", {"cart_id": {"type": "string", "description": "ID of the cart to pay for."}},
             outputs={"order_id": {"type": "string", "description": "ID of the order."}}),
        spec("track_order", {"order_id": {"type": "string", "description": "ID of the order to track."}},
             outputs={"location": {"type": "string", "description": "Where the parcel is."}}),
        spec("cancel_order", {"order_id": {"type": "string", "description": "ID of the order to cancel."}},
             outputs={"refund_amount": {"type": "number", "description": "Money returned."}}),
    ])
