"""Identity: who is asking (sessions, API tokens, single sign-on) and what they may do."""
