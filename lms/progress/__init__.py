"""The progress report for the council and the staff council: one printable page and a PDF."""
