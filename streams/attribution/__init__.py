"""The attribution worker: a likely cause for every break, then what it needs (Discriminator)."""
