"""Function-signature paths and the multi-turn plans that node operations make from them."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TurnLabel(str, Enum):
    NORMAL = "normal"
    MISS_FUNC = "miss_func"
    MISS_PARAM = "miss_param"


class NodeOperationKind(str, Enum):
    MERGE = "merge"
    INSERT_NESTED = "insert_nested"
    INSERT_LONG_DEPENDENCY = "insert_long_dependency"
    SPLIT_MISS_FUNC = "split_miss_func"
    SPLIT_MISS_PARAM = "split_miss_param"
    INSERT_PREMISE = "insert_premise"  # a function that sets up a required premise, added before the turn needing it


class NodeOperation(BaseModel):
    """Provenance of one operation: which turn it touched and why, so a plan can be audited."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: NodeOperationKind
    turn_index: int = Field(ge=0)
    functions: tuple[str, ...] = ()
    detail: str = ""


class FunctionSignaturePath(BaseModel):
    """A random walk over the dependency graph: qualified function names, one per step."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nodes: tuple[str, ...] = Field(min_length=1)
    seed: int
    stop_reason: str = "length"

    @property
    def start(self) -> str:
        return self.nodes[0]


class PlanTurn(BaseModel):
    """One user turn of a plan.

    `functions` are the qualified names the assistant should call in this turn, in order. A
    `miss_func`/`miss_param` turn calls nothing: `withheld_function` names the function the user's ask
    needs (hidden from the tool list for miss_func; its parameter `withheld_param` omitted from the
    query for miss_param) and the right answer is to say so / ask.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    functions: tuple[str, ...] = ()
    label: TurnLabel = TurnLabel.NORMAL
    withheld_function: str | None = None
    withheld_param: str | None = None
    implicit: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check_label(self) -> "PlanTurn":
        if self.label is TurnLabel.NORMAL:
            if not self.functions:
                raise ValueError("a normal turn calls at least one function")
            if self.withheld_function or self.withheld_param:
                raise ValueError("a normal turn withholds nothing")
        else:
            if self.functions:
                raise ValueError(f"a {self.label.value} turn calls no function")
            if not self.withheld_function:
                raise ValueError(f"a {self.label.value} turn names the function it withholds")
            if self.label is TurnLabel.MISS_PARAM and not self.withheld_param:
                raise ValueError("a miss_param turn names the parameter it omits")
        if not set(self.implicit) <= set(self.functions):
            raise ValueError("implicit calls must be among the turn's functions")
        return self


class Plan(BaseModel):
    """A path turned into turns. `variant` is "P" (merge+insert) or "P_prime" (split applied to P)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    path: FunctionSignaturePath
    turns: tuple[PlanTurn, ...] = Field(min_length=1)
    operations: tuple[NodeOperation, ...] = ()
    variant: str = "P"

    @property
    def functions(self) -> list[str]:
        return [name for turn in self.turns for name in turn.functions]
