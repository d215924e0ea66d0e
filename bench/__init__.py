"""Benchmarks of the quality bars in spec 06 (P1, P2, P5): ``python3 dev.py bench NAME``.

Each prints its figures last; every timing is a ratio against a baseline measured
in the same run, or a fraction of a hard limit. See the README, "Benchmarks".
"""
