"""`python -m cli` is the `campus-fer` command."""

from cli import app

app()
