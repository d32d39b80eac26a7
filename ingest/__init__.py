"""Ingest: probe, decode, strip metadata, checksum, store originals and clean working copies."""
