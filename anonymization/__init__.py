"""Anonymization: what makes a testimony safe to hear and read.

- ``redact``: spoken names and sensitive terms found in the transcript (with ``patterns``, the
  name lists in ``names/`` and ``archive.text``'s term matcher);
- ``voice`` / ``disguise``: the keyed voice disguise, ``bleep``: tones over redacted spans;
- ``intelligibility``: the gate that re-transcribes a disguised rendition;
- ``stage``: the anonymize stage and the review gate that run them over the archive.
"""
