"""Recovery workflows: one module per workflow type, built from the shared steps in `steps.py`.

Deterministic code only: no I/O, no clocks, no randomness (use `workflow.now()` and friends).
"""
