"""FastAPI routers. ``public`` serves published feeds and media (issue 6); ``archive_api`` the
advocates' archive API (issue 7). ``api/app.py`` assembles them."""
