"""What benchmarks/ runs: sweeps of trainings (``runs``), their tables (``tables``), and one
module per benchmark (its plan, its table and its ``main``)."""
