"""BFCL multi-turn evaluation: the only package that reads BFCL test questions and ground truth.

Entry point: `magnet_core.evaluate.runner.run_evaluation(EvalConfig) -> EvalResult`.
"""
