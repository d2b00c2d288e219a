"""Shared streaming code: settings, topics, the Avro codec and the reconciliation model."""
