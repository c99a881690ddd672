"""`flask courses ...`: course import from Markdown folders."""
from flask.cli import AppGroup

courses_cli = AppGroup("courses", help="Import and check courses written in Markdown.")
