"""Courses written and maintained in the browser: drafts, versions, review, owners, zip round trip."""
