"""Sweep runners and benchmark tables shared by the scripts in benchmarks/."""
