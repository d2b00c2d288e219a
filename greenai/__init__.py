"""greenai: streaming data reconciliation. The CLI and the local stack live here."""
