"""Connectors: read a source, validate each row against the recon, publish or dead-letter.

``files`` reads CSV / JSON Lines / Parquet rows, ``validate`` makes canonical records,
``publisher`` publishes them (or dead-letters them, bounded by ``dead_letters``: nothing a
row holds ends a run), ``pump`` batches, flushes and checkpoints, ``checkpoint``
stores positions, ``drops`` ingests one file once, ``settle`` says when a dropped file is
complete; ``watch``, ``sql``, ``s3``, ``ftp`` and ``http_api`` are the connectors,
``connectors`` builds one from a recon's ``connector:`` block, ``context`` wires them, and
``progress`` and ``metrics`` are what people see. See docs/connectors.md.
"""
