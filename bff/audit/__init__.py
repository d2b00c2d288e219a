"""The audit trail: who did what, when, from where — hash-chained and append-only."""
