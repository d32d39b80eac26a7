"""API access tables (issue 7): API keys and roles."""
from __future__ import annotations
