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
