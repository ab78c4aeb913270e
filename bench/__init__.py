"""Benchmarks. Each prints ratios measured in one run (machines here are shared and noisy, so
absolute times mislead). ``python -m bench`` runs them all; ``python -m bench.<name>`` runs one."""
