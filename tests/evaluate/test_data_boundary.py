"""BFCL questions and ground truths never reach synthesis: checked at run time and in the source."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("boundary_probe.py")
EVAL_FILE_NAMES = re.compile(r"BFCL_v\d|BFCL_v\*|possible_answer")
# Readers allowed by docs/ARCHITECTURE.md ("BFCL data boundary"): evaluation, and decontamination,
# which reads the test sets only to remove overlapping samples (its index module included).
ALLOWED = ("magnet_core/evaluate/", "magnet_core/dataset/decontam", "magnet_core/dataset/bfcl_index.py")
SCANNED = ("magnet_core", "tasks", "flows", "deployments")


def test_synthesis_paths_open_no_bfcl_evaluation_file():
    completed = subprocess.run([sys.executable, str(PROBE)], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["problems"] == []
    assert report["opened"] == [], f"synthesis opened evaluation data: {report['opened']}"
    assert any("BFCL_v4_multi_turn_miss_param" in path for path in report["canary"])
    assert any("possible_answer" in path for path in report["canary"])


def test_only_evaluation_and_decontamination_name_bfcl_evaluation_files():
    offenders = []
    for root in SCANNED:
        for path in sorted((REPO / root).rglob("*.py")) if (REPO / root).exists() else ():
            relative = path.relative_to(REPO).as_posix()
            if relative.startswith(ALLOWED):
                continue
            if EVAL_FILE_NAMES.search(path.read_text(encoding="utf-8")):
                offenders.append(relative)
    assert offenders == []
    assert EVAL_FILE_NAMES.search((REPO / "magnet_core/evaluate/bfcl_data.py").read_text())  # the scan can match


def test_bfcl_test_data_is_read_in_one_module_of_the_evaluation_package():
    readers = [
        path.name
        for path in sorted((REPO / "magnet_core/evaluate").glob("*.py"))
        if re.search(r"question_file|answer_file|data_dir\(\)|_read_jsonl", path.read_text()) and path.name != "bfcl_data.py"
    ]
    assert readers == []
