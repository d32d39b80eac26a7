"""The review queue: what waits for a person, a failed recognition first; and approval refused
while the transcript cannot be trusted."""
from __future__ import annotations

import json

import pytest

from archive.consent import preferred_transcript
from archive.errors import ReviewRequired
from archive.testimonies import get
from anonymization import stage

CONSENT = {"archive": True, "advocacy": True, "broadcast": True, "online": True,
           "identity": "pseudonym", "voice": "disguise"}


def _flag_transcript(archive, public_id, reason="aucun mot reconnu (40 s de parole détectée)"):
    with archive.session() as session:
        transcript = preferred_transcript(session, get(session, public_id).id)
        transcript.quality = {"needs_human": True, "reason": reason}


@pytest.fixture
def three(archive, measured_gate, seed_testimony):
    """T1: a rendition to review; T2: a rendition with a flagged span; T3: recognition failed."""
    plain = seed_testimony(consent=CONSENT, approved=False, text="je suis rentré par l'aéroport")
    doubtful = seed_testimony(consent=CONSENT, approved=False, text="avec fofena nous sommes partis",
                              sensitive_terms=["Fofana"])
    failed = seed_testimony(consent=CONSENT, approved=False, text="euh")
    for public_id in (plain, doubtful, failed):
        assert stage.anonymize(archive, public_id).status == "created"
    _flag_transcript(archive, failed)
    return plain, doubtful, failed


def test_the_queue_puts_failed_recognition_first_then_doubtful_renditions(archive, three):
    plain, doubtful, failed = three
    with archive.session() as session:
        queue = stage.review_queue(session)
    assert [(e.public_id, e.task) for e in queue] == [(failed, "transcrire"), (doubtful, "relire"), (plain, "relire")]
    assert "aucun mot reconnu" in queue[0].reason and queue[1].flags >= 1 and queue[2].flags == 0


def test_approval_is_refused_while_the_transcript_needs_a_person(archive, three):
    plain, _doubtful, failed = three
    with archive.session() as session:
        with pytest.raises(ReviewRequired, match="transcription humaine nécessaire"):
            stage.approve(archive, session, get(session, failed), "relectrice")
        stage.approve(archive, session, get(session, plain), "relectrice")
    with archive.session() as session:
        assert plain not in [e.public_id for e in stage.review_queue(session)]


def test_cli_lists_the_queue(archive_cli, three):
    plain, doubtful, failed = three
    code, out, _ = archive_cli("review", "list", "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed["count"] == 3 and [row["id"] for row in listed["data"]] == [failed, doubtful, plain]
    code, out, _ = archive_cli("review", "list")
    assert code == 0 and out.index(failed) < out.index(doubtful) < out.index(plain) and "transcrire" in out


def test_an_intake_term_found_nowhere_in_the_transcript_is_flagged_for_listening(archive, seed_testimony):
    """Whisper base wrote "je m'y en ok" for "je viens de Kayes": no text match can place the
    term, so the reviewer is told to listen for it over the whole recording."""
    public_id = seed_testimony(consent=CONSENT, approved=False, text="je m'appelle Moussabiama je m'y en ok",
                               sensitive_terms=["Moussa Diarra", {"term": "Kayes", "kind": "place"}])
    assert stage.anonymize(archive, public_id).status == "created"
    with archive.session() as session:
        testimony = get(session, public_id)
        rendition = stage.current_or_raise(testimony)
        flags = stage.review_flags(session, rendition)
        unheard = [f for f in flags if f["source"] == "unheard-term"]
        # "Moussabiama" was redacted after "je m'appelle": Moussa Diarra counts as found
        assert [(f["original"], f["kind"], f["start"]) for f in unheard] == [("Kayes", "place", 0.0)]
        assert unheard[0]["end"] == pytest.approx(testimony.duration, abs=1e-3)
        assert "Kayes" not in json.dumps(rendition.flags)  # the stored flag names the term by id only
        assert [e.public_id for e in stage.review_queue(session) if e.flags] == [public_id]
