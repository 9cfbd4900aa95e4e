"""The process framework: ports, the vivarium-core adapter, composite specs, runs, results."""
