"""Privacy: the audit log of who looked at whose data, and what managers may see."""
