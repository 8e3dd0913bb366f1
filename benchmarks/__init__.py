"""Benchmarks: they print what they measured, as ratios beside a baseline from the same run."""
