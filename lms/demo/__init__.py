"""Demo data: a fictional town administration, so every page has something real to show."""
