"""tlprobe worker: RQ entry points and the numerical engine (``worker.science``)."""
