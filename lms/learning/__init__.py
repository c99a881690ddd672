"""Learning: progress through lessons, quiz answers, completions and certificates."""
