"""The notifier: every alert on ``<prefix>.alerts`` to the subscribers it concerns, by signed
webhook or e-mail, with retries, a delivery log and a dead letter after the last try."""
