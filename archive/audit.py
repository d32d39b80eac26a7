"""The audit log: who read or changed what, and when."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from archive.models import AuditEvent, Testimony


def record(session: Session, actor: str, action: str, *, testimony: Testimony | None = None,
           target: str | None = None, **detail: Any) -> AuditEvent:
    event = AuditEvent(actor=actor, action=action, testimony_id=testimony.id if testimony else None,
                       target=target or (testimony.public_id if testimony else None), detail=detail)
    session.add(event)
    return event
