"""Measurements shared by the scripts of benchmarks/."""
