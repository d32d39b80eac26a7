"""Feed tables (issue 6): partner radio stations and their tokens."""
from __future__ import annotations
