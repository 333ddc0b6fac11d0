"""An index of the BFCL test sets, built once and cached, used only to *remove* overlaps.

This is the one synthesis-side reader of BFCL questions and ground truths (docs/ARCHITECTURE.md,
"BFCL data boundary"): nothing read here flows into a sample, it only decides which samples to drop.
The index holds hashed question n-grams (a text shorter than n is one gram, so short questions match
exactly), the flattened call sequences of multi-turn ground truths, and the single-turn ground truths
with their allowed values, keyed by their sorted function names.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from magnet_core.dataset.text import canonical_call, ngrams, stable_hash64, words
from magnet_core.domain import FunctionSpec
from magnet_core.evaluate.ground_truth import GroundTruthError, parse_ground_truth_call
from magnet_core.execution.call_parser import CallParseError

INDEX_FORMAT = 1


@dataclass
class BfclIndex:
    ngram_size: int
    fingerprint: str
    gram_to_id: dict[int, str] = field(default_factory=dict)
    sequence_to_id: dict[str, str] = field(default_factory=dict)
    single_by_names: dict[str, list[tuple[str, list[dict[str, Any]]]]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": INDEX_FORMAT,
            "ngram_size": self.ngram_size,
            "fingerprint": self.fingerprint,
            "grams": {format(key, "x"): value for key, value in self.gram_to_id.items()},
            "sequences": self.sequence_to_id,
            "single": self.single_by_names,
            "files": self.files,
            "skipped": self.skipped,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "BfclIndex":
        return cls(
            ngram_size=data["ngram_size"],
            fingerprint=data["fingerprint"],
            gram_to_id={int(key, 16): value for key, value in data["grams"].items()},
            sequence_to_id=dict(data["sequences"]),
            single_by_names={k: [(i, gt) for i, gt in v] for k, v in data["single"].items()},
            files=list(data["files"]),
            skipped=list(data["skipped"]),
        )


def bfcl_data_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("bfcl-eval is not installed: decontamination needs its test sets (pip install --no-deps bfcl-eval)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _test_files(data_dir: Path) -> tuple[list[Path], list[Path]]:
    return sorted(data_dir.glob("BFCL_v*_*.json")), sorted((data_dir / "possible_answer").glob("BFCL_v*_*.json"))


def data_fingerprint(data_dir: Path) -> str:
    questions, answers = _test_files(data_dir)
    try:
        version = importlib.metadata.version("bfcl-eval")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    parts = [version] + [f"{p.relative_to(data_dir)}:{p.stat().st_size}" for p in questions + answers]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _json_lines(path: Path) -> list[dict[str, Any]] | None:
    """BFCL files are JSON Lines; a file that is not (an id list) is skipped and reported."""
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return None
        if not isinstance(record, dict) or "id" not in record:
            return None
        records.append(record)
    return records


def _add_questions(index: BfclIndex, record: dict[str, Any]) -> None:
    for turn in record.get("question") or ():
        for message in turn if isinstance(turn, list) else ():
            if isinstance(message, dict) and message.get("role") == "user" and isinstance(message.get("content"), str):
                for gram in ngrams(words(message["content"]), index.ngram_size):
                    index.gram_to_id.setdefault(stable_hash64(gram), record["id"])


def _add_ground_truth(index: BfclIndex, record: dict[str, Any], specs: dict[str, FunctionSpec]) -> None:
    truth = record.get("ground_truth")
    if not isinstance(truth, list) or not truth:
        return
    if all(isinstance(turn, list) for turn in truth):
        calls = []
        for turn in truth:
            for text in turn:
                try:
                    calls.append(parse_ground_truth_call(text, specs))
                except (CallParseError, GroundTruthError) as error:
                    index.skipped.append(f"{record['id']}: unparsable ground-truth call ({error})")
        if calls:
            index.sequence_to_id.setdefault("\n".join(canonical_call(c) for c in calls), record["id"])
    elif all(isinstance(call, dict) and len(call) == 1 for call in truth):
        names = "|".join(sorted(next(iter(call)) for call in truth))
        index.single_by_names.setdefault(names, []).append((record["id"], truth))


def build_index(ngram_size: int, data_dir: Path | None = None) -> BfclIndex:
    data_dir = data_dir or bfcl_data_dir()
    from magnet_core.pools import load_pool

    # Positional ground-truth arguments are named by the multi-turn function docs' parameter order.
    specs = {spec.name: spec for spec in load_pool("bfcl").specs}
    index = BfclIndex(ngram_size=ngram_size, fingerprint=data_fingerprint(data_dir))
    questions, answers = _test_files(data_dir)
    readers = [(p, _add_questions) for p in questions]
    readers += [(p, lambda idx, rec: _add_ground_truth(idx, rec, specs)) for p in answers]
    for path, add in readers:
        records = _json_lines(path)
        if records is None:
            index.skipped.append(f"{path.name}: not JSON Lines test data")
            continue
        index.files.append(str(path.relative_to(data_dir)))
        for record in records:
            add(index, record)
    return index


_MEMORY: dict[tuple[int, str], BfclIndex] = {}


def load_index(ngram_size: int, cache_dir: Path | None) -> BfclIndex:
    """Memory, then the on-disk cache, then a fresh build (written atomically to the cache)."""
    data_dir = bfcl_data_dir()
    fingerprint = data_fingerprint(data_dir)
    key = (ngram_size, fingerprint)
    if key in _MEMORY:
        return _MEMORY[key]
    cache_path = cache_dir / f"bfcl-index-v{INDEX_FORMAT}-n{ngram_size}-{fingerprint}.json.gz" if cache_dir else None
    if cache_path is not None and cache_path.is_file():
        try:
            index = BfclIndex.from_json(json.loads(gzip.decompress(cache_path.read_bytes())))
            _MEMORY[key] = index
            return index
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt below
    index = build_index(ngram_size, data_dir)
    if cache_path is not None:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=cache_path.parent, prefix=".tmp-index-")
        with os.fdopen(handle, "wb") as out:
            out.write(gzip.compress(json.dumps(index.to_json()).encode("utf-8"), mtime=0))
        os.replace(tmp, cache_path)
    _MEMORY[key] = index
    return index
