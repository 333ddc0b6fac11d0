"""A judged dependency between two functions, with the evidence a reader needs to believe it."""

from __future__ import annotations

from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class DependencyKind(str, Enum):
    VALUE = "value"  # an output field of the source feeds a parameter of the target
    PREMISE = "premise"  # the source must run first (log in, change directory, press the brake)


class EdgeEvidence(BaseModel):
    """One reason for an edge. A value reason names the output field and the parameter it feeds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: DependencyKind
    output_field: str | None = None
    parameter: str | None = None
    partial: bool = False  # the field feeds part of the parameter (an element of a list, one of its keys)
    note: str = ""

    @model_validator(mode="after")
    def _value_names_both_ends(self) -> "EdgeEvidence":
        if self.kind is DependencyKind.VALUE and not (self.output_field and self.parameter):
            raise ValueError("value evidence names the output field and the parameter it feeds")
        return self


class DependencyEdge(BaseModel):
    """`source` must come before `target`: its output feeds the target, or it sets up the target's premise.

    `kind` is value when any evidence is a value feed (the stronger, checkable claim), else premise.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    target: str
    kind: DependencyKind
    evidence: tuple[EdgeEvidence, ...] = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)
    judge: str

    @model_validator(mode="after")
    def _consistent(self) -> "DependencyEdge":
        if self.source == self.target:
            raise ValueError(f"self loop on {self.source}")
        has_value = any(item.kind is DependencyKind.VALUE for item in self.evidence)
        if has_value != (self.kind is DependencyKind.VALUE):
            raise ValueError("edge kind must be value exactly when some evidence is a value feed")
        return self

    def value_feeds(self) -> list[tuple[str, str]]:
        """(output field, parameter) pairs: what the insert operation's nested check relies on."""
        return [(e.output_field, e.parameter) for e in self.evidence if e.kind is DependencyKind.VALUE]  # type: ignore[misc]


def make_edge(source: str, target: str, evidence: list[EdgeEvidence], score: float, judge: str) -> DependencyEdge:
    kind = DependencyKind.VALUE if any(e.kind is DependencyKind.VALUE for e in evidence) else DependencyKind.PREMISE
    return DependencyEdge(source=source, target=target, kind=kind, evidence=tuple(evidence), score=round(min(1.0, max(0.0, score)), 4), judge=judge)
