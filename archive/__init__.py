"""The archive: settings, database, media store, consent policy. Imports nothing of ours."""
