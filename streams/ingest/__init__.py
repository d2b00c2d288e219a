"""Connectors: read a source, validate each row against the recon, publish or dead-letter."""
