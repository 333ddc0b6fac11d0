"""The BFCL multi-turn pool: 8 classes, 128 functions, with their executable Python backends.

Reads only `bfcl_eval/data/multi_turn_func_doc/*.json` (function docs) and the backend modules. BFCL
questions, initial configs and ground truths are evaluation data and are never read here; a scenario's
initial state comes from the backend's own defaults or from configs the factory writes itself.
"""

from __future__ import annotations

import copy
import importlib
import json
from importlib import resources
from typing import Any

from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.backends import BackendSession, InstanceBackendSession
from magnet_core.pools.base import FunctionPool, SpecCollector
from magnet_core.pools.entries import spec_from_raw

# class -> (doc file, backend module, our category label)
BFCL_CLASSES: dict[str, tuple[str, str, str]] = {
    "GorillaFileSystem": ("gorilla_file_system", "gorilla_file_system", "file_management"),
    "MathAPI": ("math_api", "math_api", "math"),
    "MessageAPI": ("message_api", "message_api", "messaging"),
    "TwitterAPI": ("posting_api", "posting_api", "social_media"),
    "TicketAPI": ("ticket_api", "ticket_api", "customer_support"),
    "TradingBot": ("trading_bot", "trading_bot", "finance_trading"),
    "TravelAPI": ("travel_booking", "travel_booking", "travel"),
    "VehicleControlAPI": ("vehicle_control", "vehicle_control", "vehicle"),
}
STATELESS = {"MathAPI"}
_BACKEND_PACKAGE = "bfcl_eval.eval_checker.multi_turn_eval.func_source_code"
_DOC_PACKAGE = "bfcl_eval.data.multi_turn_func_doc"


def load_bfcl_pool(source: str | None = None, strict: bool = False) -> FunctionPool:
    classes = list(BFCL_CLASSES) if not source else [name.strip() for name in source.split(",") if name.strip()]
    collector = SpecCollector("bfcl")
    for tool_class in classes:
        if tool_class not in BFCL_CLASSES:
            collector.refuse(f"bfcl:{tool_class}", f"unknown BFCL class; known: {sorted(BFCL_CLASSES)}")
            continue
        doc_file, _, category = BFCL_CLASSES[tool_class]
        text = _doc_text(doc_file)
        for line_number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            location = f"{doc_file}.json:{line_number}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as error:
                collector.refuse(location, f"invalid JSON: {error.msg}")
                continue
            collector.add(spec_from_raw(raw, location, source_pool="bfcl", tool_class=tool_class, category=category), location)
    specs, issues = collector.finish(strict)
    return FunctionPool(name="bfcl", kind="bfcl", source=source or "all", specs=specs, session_factory=new_bfcl_session, issues=issues)


def new_bfcl_session(specs: list[FunctionSpec], initial_state: dict[str, Any]) -> BackendSession:
    instances: dict[str | None, Any] = {}
    for tool_class in sorted({spec.tool_class for spec in specs if spec.tool_class}):
        instances[tool_class] = bfcl_instance(tool_class, initial_state.get(tool_class, {}))
    return InstanceBackendSession(specs, instances)


def bfcl_instance(tool_class: str, config: dict[str, Any], long_context: bool = False) -> Any:
    """A fresh backend object; `_load_scenario` with an empty config gives the class's default state."""
    module = importlib.import_module(f"{_BACKEND_PACKAGE}.{BFCL_CLASSES[tool_class][1]}")
    instance = getattr(module, tool_class)()
    if tool_class not in STATELESS:
        instance._load_scenario(copy.deepcopy(config), long_context=long_context)
    return instance


def _doc_text(doc_file: str) -> str:
    return resources.files(_DOC_PACKAGE).joinpath(f"{doc_file}.json").read_text(encoding="utf-8")
