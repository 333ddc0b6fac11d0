"""Ground-truth call strings -> `FunctionCall`s, through the project's safe parser.

BFCL's ground truth is trusted package data, but a few entries pass arguments positionally
(`sort('final_report.pdf')`), which `parse_calls` refuses by design. We rewrite positional arguments into
keywords using the parameter order of the function's spec (the order BFCL's docs and backends share) and
then parse the result with `parse_calls` like any model output, so no call text is ever evaluated.
"""

from __future__ import annotations

import ast

from magnet_core.domain.calls import FunctionCall
from magnet_core.domain.functions import FunctionSpec
from magnet_core.execution.call_parser import parse_calls


class GroundTruthError(ValueError):
    """A ground-truth string that cannot be read as keyword calls of known functions."""


def parse_ground_truth_call(text: str, specs: dict[str, FunctionSpec]) -> FunctionCall:
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise GroundTruthError(f"{text!r}: {error.msg}") from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        raise GroundTruthError(f"{text!r} is not a call of a bare function name")
    if node.args:
        spec = specs.get(node.func.id)
        if spec is None:
            raise GroundTruthError(f"{text!r}: positional arguments for unknown function {node.func.id!r}")
        order = list(spec.param_properties)
        if len(node.args) > len(order):
            raise GroundTruthError(f"{text!r}: {len(node.args)} positional arguments, {node.func.id} takes {len(order)}")
        named = {keyword.arg for keyword in node.keywords}
        keywords = [ast.keyword(arg=name, value=value) for name, value in zip(order, node.args)]
        if named & {keyword.arg for keyword in keywords}:
            raise GroundTruthError(f"{text!r}: an argument is given both by position and by name")
        node = ast.Call(func=node.func, args=[], keywords=keywords + list(node.keywords))
    calls = parse_calls(ast.unparse(ast.fix_missing_locations(node)))
    if len(calls) != 1:
        raise GroundTruthError(f"{text!r}: expected exactly one call")
    return calls[0]


def parse_ground_truth_turns(turns: tuple[tuple[str, ...], ...], specs: dict[str, FunctionSpec]) -> list[list[FunctionCall]]:
    return [[parse_ground_truth_call(text, specs) for text in turn] for turn in turns]
