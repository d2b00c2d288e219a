"""The load test (``make load``): analysts on the API (Locust) and live SSE clients against a
running stack; see ``load/run.py`` and docs/benchmarks.md#load-test."""
