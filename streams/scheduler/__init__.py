"""The scheduler: cut-offs, scheduled connector runs, SLA breaches, ageing, retention."""
