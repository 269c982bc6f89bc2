"""`python -m campus_fer.cli` is the `campus-fer` command."""

from campus_fer.cli import app

app()
