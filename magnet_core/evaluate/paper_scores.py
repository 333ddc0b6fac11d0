"""Reference rows for the report: BFCL-v3 multi-turn accuracies (percent) published in the Magnet paper.

Source: /work/shared/seeds/001_68ee9d88fba48a56.txt, the paper's main BFCL-v3 table ("Magnet:
Multi-turn Tool-use Data Synthesis and Distillation via Graph Translation", arXiv 2503.07826), columns
Multi-turn Overall / Base / Miss Func / Miss Param / Long. Copied by hand; overall is the mean of the
four categories. Those figures come from BFCL-v3's data; the installed package ships BFCL-v4 files of
the same categories, so small differences can come from revised cases, not only from the model.
"""

from __future__ import annotations

from typing import NamedTuple


class PaperRow(NamedTuple):
    model: str
    overall: float
    base: float
    miss_func: float
    miss_param: float
    long_context: float


SOURCE = "Magnet paper (arXiv 2503.07826), BFCL-v3 main table; seeds/001_68ee9d88fba48a56.txt"

PAPER_ROWS: tuple[PaperRow, ...] = (
    PaperRow("Gemini-1.5-Pro-002 (teacher)", 20.75, 23.00, 19.50, 17.50, 23.00),
    PaperRow("Qwen2.5-Coder-7B-Instruct", 8.25, 11.50, 6.50, 5.50, 5.50),
    PaperRow("Magnet-7B-SFT", 26.50, 35.50, 24.00, 27.50, 19.00),
    PaperRow("Magnet-7B-mDPO", 27.75, 39.00, 24.00, 26.00, 22.00),
    PaperRow("Qwen2.5-Coder-14B-Instruct", 5.38, 7.50, 7.00, 4.00, 3.00),
    PaperRow("Magnet-14B-SFT", 33.38, 47.00, 32.00, 32.00, 22.50),
    PaperRow("Magnet-14B-mDPO", 37.88, 52.00, 36.00, 35.50, 28.00),
)


class PaperSuiteRow(NamedTuple):
    """The same table's full BFCL-v3 columns (Non-live Exec has no counterpart in the installed package)."""

    model: str
    overall: float
    non_live_ast: float
    non_live_exec: float
    live_ast: float
    multi_turn: float
    relevance: float
    irrelevance: float


PAPER_SUITE_ROWS: tuple[PaperSuiteRow, ...] = (
    PaperSuiteRow("Gemini-1.5-Pro-002 (teacher)", 62.19, 88.58, 91.27, 76.72, 20.75, 72.22, 78.15),
    PaperSuiteRow("Qwen2.5-Coder-7B-Instruct", 53.13, 86.83, 82.27, 66.99, 8.25, 88.89, 65.39),
    PaperSuiteRow("Magnet-7B-SFT", 62.73, 88.60, 85.73, 74.19, 26.50, 66.67, 78.67),
    PaperSuiteRow("Magnet-7B-mDPO", 64.64, 89.40, 89.27, 77.92, 27.75, 83.33, 78.51),
    PaperSuiteRow("Qwen2.5-Coder-14B-Instruct", 51.88, 90.94, 87.80, 65.30, 5.38, 100.00, 44.58),
    PaperSuiteRow("Magnet-14B-SFT", 66.83, 90.02, 88.20, 77.92, 33.38, 72.22, 82.59),
    PaperSuiteRow("Magnet-14B-mDPO", 68.01, 90.13, 89.75, 79.14, 37.88, 88.89, 84.78),
)
