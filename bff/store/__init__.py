"""The BFF's SQL, one module per table it owns: breaks (written by the sink alone), users,
api_tokens and audit_log."""
