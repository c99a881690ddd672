"""Courses: the model, the Markdown course format, import from courses/, the catalogue."""
