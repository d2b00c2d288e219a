"""The BFF: FastAPI app that sinks breaks into PostgreSQL, fans them out and serves the UI."""
