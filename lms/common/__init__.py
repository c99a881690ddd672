"""The neutral kernel: what several domains share (errors, dates, column types, form helpers,
role checks, source-file positions). It imports no domain."""
