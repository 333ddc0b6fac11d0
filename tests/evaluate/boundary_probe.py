"""Run the synthesis side under an audit hook and print every open of BFCL evaluation data (JSON).

Run in a fresh interpreter so that modules reading data at import time are caught too. Every
`magnet_core` module is imported; then the synthesis stages that exist are exercised on the BFCL
pool offline: pool loading and execution, the graph and plan stages, translation, distillation.
Last, as a canary, the evaluation loader itself reads a category, which the hook must see.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import re
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
EVAL_DATA = re.compile(r"bfcl_eval[/\\]data[/\\](?:.*[/\\])?(?:BFCL_v[^/\\]*|possible_answer)")
opened: list[str] = []
canary: list[str] = []
phase = opened
problems: list[str] = []


def _audit(event: str, args: tuple) -> None:
    """Must never raise: an exception here would break the audited operation itself."""
    if event not in ("open", "os.listdir", "os.scandir") or not args:
        return
    target = args[0]
    if not isinstance(target, (str, bytes, os.PathLike)):
        return  # file descriptors
    path = os.fsdecode(target)
    if EVAL_DATA.search(path):
        phase.append(path)


def _import_everything() -> None:
    import magnet_core

    for module in pkgutil.walk_packages(magnet_core.__path__, "magnet_core."):
        try:
            importlib.import_module(module.name)
        except Exception as error:  # noqa: BLE001 - reported, and fails the test
            problems.append(f"import {module.name}: {type(error).__name__}: {error}")


def _exercise() -> None:
    from magnet_core.domain import FunctionCall
    from magnet_core.execution.executor import CallExecutor
    from magnet_core.pools import load_pool

    pool = load_pool("bfcl")
    with CallExecutor(pool.new_session(["GorillaFileSystem.ls", "GorillaFileSystem.mkdir"])) as executor:
        executor.execute_all([FunctionCall(name="mkdir", arguments={"dir_name": "x"}), FunctionCall(name="ls", arguments={})])

    from magnet_core.graph.stage import GraphStageConfig, PlanStageConfig, build_graph, sample_plans

    graph = build_graph(pool, GraphStageConfig())
    plans = sample_plans(graph, pool, PlanStageConfig(max_plans=4))

    from magnet_core.translate.stage import TranslateConfig, translate_plans

    translated = translate_plans(pool, plans, TranslateConfig())
    try:
        from magnet_core.distill.stage import DistillConfig, distill
    except ImportError:
        return
    distill(pool, translated.translated, DistillConfig())


def main() -> None:
    global phase
    sys.addaudithook(_audit)
    _import_everything()
    try:
        _exercise()
    except Exception as error:  # noqa: BLE001 - reported, and fails the test
        problems.append(f"exercise: {type(error).__name__}: {error}")
    # The canary proves the hook sees reads: the evaluation package's own loader must show up.
    phase = canary
    from magnet_core.evaluate.bfcl_data import load_cases

    load_cases("miss_param")
    print(json.dumps({"opened": opened, "canary": canary, "problems": problems}))


if __name__ == "__main__":
    main()
