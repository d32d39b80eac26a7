"""The two front doors: the ``kuma`` CLI (Typer) and the HTTP API (FastAPI). Thin; nothing imports it."""
