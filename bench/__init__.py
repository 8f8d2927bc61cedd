"""Side-by-side benchmarks on a loopback testbed the benchmark builds itself (root only)."""
