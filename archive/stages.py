"""The pipeline stages, written once and in order (DESIGN.md). Status per testimony per stage
is kept in ``stage_status``; the functions that run each stage live in their packages and are
wired to these names in ``api/pipeline.py``."""
STAGES = ("ingest", "transcribe", "anonymize", "review")
