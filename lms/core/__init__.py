"""Pages that belong to no single domain: the start page, health check, language switch."""
