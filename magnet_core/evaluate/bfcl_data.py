"""The one module that reads BFCL test questions and ground truth (multi-turn and single-turn).

BFCL questions, initial configs and ground truths are evaluation data: synthesis must never see them
(a test audits every file open of the synthesis paths). Keeping every read here makes the boundary one
grep wide. Each category file is JSONL (`id`, `question` = turns of messages, `initial_config`,
`involved_classes`, and for miss_func `missed_function` = turn index -> withheld names); the ground
truth file holds, per case, one list of BFCL call strings per turn (an empty list = the model should ask).
"""

from __future__ import annotations

import json
import random
import importlib.util
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Category = Literal["base", "miss_func", "miss_param", "long_context"]
CATEGORIES: tuple[Category, ...] = ("base", "miss_func", "miss_param", "long_context")
_VERSION_PREFIX = "BFCL_v4"

SingleTurnCategory = Literal[
    "simple_python", "simple_java", "simple_javascript", "multiple", "parallel", "parallel_multiple",
    "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
    "irrelevance", "live_irrelevance", "live_relevance",
]
SINGLE_TURN_CATEGORIES: tuple[SingleTurnCategory, ...] = SingleTurnCategory.__args__
NO_ANSWER_CATEGORIES = ("irrelevance", "live_irrelevance", "live_relevance")  # judged on whether a call is made


class EvalCase(BaseModel):
    """One BFCL multi-turn test case together with its ground truth."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    category: Category
    turns: tuple[tuple[dict[str, Any], ...], ...] = Field(min_length=1)
    initial_config: dict[str, Any] = Field(default_factory=dict)
    involved_classes: tuple[str, ...] = Field(min_length=1)
    missed_function: dict[int, tuple[str, ...]] = Field(default_factory=dict)
    ground_truth: tuple[tuple[str, ...], ...]

    @property
    def long_context(self) -> bool:
        return self.category == "long_context"

    @property
    def withheld_names(self) -> set[str]:
        return {name for names in self.missed_function.values() for name in names}


def data_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("bfcl-eval is not installed: pip install --no-deps bfcl-eval mpmath")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def question_file(category: Category) -> Path:
    return data_dir() / f"{_VERSION_PREFIX}_multi_turn_{category}.json"


def answer_file(category: Category) -> Path:
    return data_dir() / "possible_answer" / f"{_VERSION_PREFIX}_multi_turn_{category}.json"


def load_cases(category: Category) -> list[EvalCase]:
    """Every case of a category in file order, joined with its ground truth by id."""
    if category not in CATEGORIES:
        raise ValueError(f"unknown BFCL multi-turn category {category!r}; choose from {list(CATEGORIES)}")
    questions = _read_jsonl(question_file(category))
    answers = {row["id"]: row["ground_truth"] for row in _read_jsonl(answer_file(category))}
    cases = []
    for row in questions:
        if row["id"] not in answers:
            raise ValueError(f"{category}: case {row['id']} has no ground truth")
        truth = answers[row["id"]]
        if len(truth) != len(row["question"]):
            raise ValueError(f"{row['id']}: {len(row['question'])} turns but {len(truth)} ground-truth turns")
        cases.append(
            EvalCase(
                case_id=row["id"],
                category=category,
                turns=tuple(tuple(turn) for turn in row["question"]),
                initial_config=row.get("initial_config") or {},
                involved_classes=tuple(row["involved_classes"]),
                missed_function={int(k): tuple(v) for k, v in (row.get("missed_function") or {}).items()},
                ground_truth=tuple(tuple(turn) for turn in truth),
            )
        )
    return cases


class SingleTurnCase(BaseModel):
    """One BFCL single-turn (AST) or relevance/irrelevance entry; `possible_answer` is None for the latter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    case_id: str
    category: SingleTurnCategory
    messages: tuple[dict[str, Any], ...] = Field(min_length=1)
    functions: tuple[dict[str, Any], ...]
    possible_answer: tuple[dict[str, Any], ...] | None = None


def load_single_turn(category: SingleTurnCategory) -> list[SingleTurnCase]:
    """Every entry of a single-turn category in file order, with its possible answers (BFCL aligns by index)."""
    if category not in SINGLE_TURN_CATEGORIES:
        raise ValueError(f"unknown BFCL single-turn category {category!r}; choose from {list(SINGLE_TURN_CATEGORIES)}")
    rows = _read_jsonl(data_dir() / f"{_VERSION_PREFIX}_{category}.json")
    answers: list[Any] = [None] * len(rows)
    if category not in NO_ANSWER_CATEGORIES:
        answers = [row["ground_truth"] for row in _read_jsonl(data_dir() / "possible_answer" / f"{_VERSION_PREFIX}_{category}.json")]
        if len(answers) != len(rows):
            raise ValueError(f"{category}: {len(rows)} entries but {len(answers)} possible answers")
    return [
        SingleTurnCase(
            case_id=row["id"],
            category=category,
            messages=tuple(row["question"][0]),
            functions=tuple(row["function"]),
            possible_answer=tuple(answer) if answer is not None else None,
        )
        for row, answer in zip(rows, answers)
    ]


def sample_single_turn(category: SingleTurnCategory, sample_size: int | None, seed: int) -> list[SingleTurnCase]:
    return _sample(load_single_turn(category), category, sample_size, seed)


def sample_cases(category: Category, sample_size: int | None, seed: int) -> list[EvalCase]:
    """`sample_size` cases drawn with `seed` (all of them when None), kept in file order."""
    return _sample(load_cases(category), category, sample_size, seed)


def _sample(cases: list, category: str, sample_size: int | None, seed: int) -> list:
    if sample_size is None or sample_size >= len(cases):
        return cases
    chosen = sorted(random.Random(f"{category}:{seed}").sample(range(len(cases)), sample_size))
    return [cases[index] for index in chosen]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
