import errno
import os
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import func, select

import ingest.pipeline as pipeline
from archive.audio import probe
from archive.models import AuditEvent, ConsentRecord, MediaAsset, MediaKind, SensitiveTerm
from archive import models
from archive.store import MediaStore
from archive.testimonies import get
from ingest.pipeline import ingest_file, ingest_paths
from tests.conftest import FULL_CONSENT, speechlike

FORMATS = ["wav", "mp3", "m4a", "ogg", "opus", "webm", "amr", "flac"]


def count(archive, model) -> int:
    with archive.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_phone_format_is_ingested_with_a_clean_working_copy(archive, make_audio, fmt):
    path = make_audio(f"témoignage.{fmt}", seconds=2.5, rate=44100 if fmt in ("mp3", "m4a", "flac") else 16000)
    result = ingest_file(archive, path)
    assert result.status == "ingested", result.reason
    with archive.session() as session:
        testimony = get(session, result.public_id)
        original, working = testimony.asset(MediaKind.ORIGINAL), testimony.asset(MediaKind.WORKING)
        assert archive.store.path(original.sha256).read_bytes() == path.read_bytes()  # untouched
        info = probe(archive.store.path(working.sha256))
        assert (info.codec, info.sample_rate, info.channels) == ("flac", 16000, 1)
        assert testimony.duration == pytest.approx(2.5, abs=0.15)
        assert testimony.public_id == f"T-{testimony.id:06d}"


def test_sidecar_metadata_consent_and_terms_are_recorded(archive, make_audio):
    sidecar = {"pseudonym": "Awa", "language": "bm", "expelled_from": "ly", "themes": ["expulsion", "retour"],
               "recorded_at": "2024-02-03", "consent": FULL_CONSENT, "sensitive_terms": ["Diarra", {"term": "Kayes", "kind": "place"}],
               "muted": [["00:00.5", "00:01"]]}
    result = ingest_file(archive, make_audio("awa.wav", sidecar=sidecar))
    with archive.session() as session:
        testimony = get(session, result.public_id)
        assert (testimony.pseudonym, testimony.language, testimony.expelled_from) == ("Awa", "bm", "LY")
        assert [t.slug for t in testimony.themes] == ["expulsion", "retour"]
        assert testimony.consent.version == 1 and testimony.consent.online is True
        assert sorted((t.term, t.kind) for t in testimony.sensitive_terms) == [("Diarra", "name"), ("Kayes", "place")]
        assert testimony.muted_spans == [[0.5, 1.0]]
        assert testimony.stage("ingest").state == "done"


def test_no_sidecar_means_no_consent(archive, make_audio):
    result = ingest_file(archive, make_audio("bare.wav"))
    with archive.session() as session:
        assert get(session, result.public_id).consent is None


def _tagged_m4a(path: Path) -> Path:
    with av.open(str(path), "w", format="ipod") as container:
        container.metadata.update({"location": "+12.6392-008.0029/", "comment": "Moussa Diarra 76123456",
                                   "model": "SM-A125F", "make": "samsung", "title": "Diarra"})
        stream = container.add_stream("aac", rate=16000, layout="mono")
        stream.metadata["handler_name"] = "PhoneRecorderSecret"
        samples = speechlike(2.0).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def test_phone_metadata_never_reaches_the_working_copy(archive, tmp_path):
    path = _tagged_m4a(tmp_path / "phone.m4a")
    assert "location" in probe(path).tags or "comment" in probe(path).tags  # the input really carries tags
    result = ingest_file(archive, path)
    with archive.session() as session:
        working = get(session, result.public_id).asset(MediaKind.WORKING)
    working_path = archive.store.path(working.sha256)
    assert probe(working_path).tags == {}
    raw = working_path.read_bytes()
    for secret in (b"Diarra", b"76123456", b"SM-A125F", b"samsung", b"+12.6392", b"PhoneRecorderSecret", b"Lavf"):
        assert secret not in raw


@pytest.mark.parametrize("name, content, reason", [
    ("empty.wav", b"", "vide"),
    ("text.mp3", b"this is not audio at all, just text renamed to mp3" * 20, "illisible"),
    ("corrupt.ogg", b"OggS" + bytes(range(256)) * 8, "illisible"),
])
def test_bad_files_are_refused_with_one_clear_reason(archive, tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    result = ingest_file(archive, path)
    assert result.status == "failed" and reason in result.reason and name in result.reason
    assert "\n" not in result.reason
    assert count(archive, models.Testimony) == 0 and list(archive.store.stored()) == []


def test_silent_recording_is_refused(archive, tmp_path):
    from archive.audio import encode
    path = encode(np.zeros(16000 * 2, dtype=np.float32), tmp_path / "silence.wav", rate=16000)
    result = ingest_file(archive, path)
    assert result.status == "failed" and "silencieux" in result.reason


def test_too_long_recording_is_refused(settings, make_audio):
    from archive.db import Archive
    limited = Archive(settings.model_copy(update={"max_duration_s": 1.0}))
    result = ingest_file(limited, make_audio("long.wav", seconds=2))
    assert result.status == "failed" and "trop long" in result.reason
    limited.dispose()


def test_duplicate_ingest_creates_nothing_new(archive, make_audio):
    path = make_audio("twice.ogg")
    first = ingest_file(archive, path)
    second = ingest_file(archive, path)
    assert (first.status, second.status) == ("ingested", "duplicate")
    assert second.public_id == first.public_id
    assert count(archive, models.Testimony) == 1 and count(archive, MediaAsset) == 2


def test_batch_with_bad_files_ingests_the_good_ones(archive, make_audio, tmp_path):
    folder = tmp_path / "batch"
    make_audio("a.wav", folder=folder, seed=1)
    make_audio("b.mp3", folder=folder / "sub", seed=2)
    (folder / "broken.mp3").write_bytes(b"nope")
    results = list(ingest_paths(archive, [folder]))
    assert sorted(r.status for r in results) == ["failed", "ingested", "ingested"]


def test_sidecar_errors_reject_the_file_with_every_problem(archive, make_audio):
    path = make_audio("bad-meta.wav", sidecar={"language": "xx", "themes": ["tourisme"], "recorded_at": "2024-13-40",
                                                "consent": {"archive": "peut-être", "voice": "robot"}, "nom": "x"})
    result = ingest_file(archive, path)
    assert result.status == "failed"
    for fragment in ("language", "recorded_at", "consent.archive", "consent.voice", "nom", "champ inconnu"):
        assert fragment in result.reason
    path.with_suffix(".yaml").write_text("language: fr\nthemes: [tourisme]\n")
    result = ingest_file(archive, path)
    assert "thème inconnu tourisme" in result.reason
    assert count(archive, models.Testimony) == 0 and list(archive.store.stored()) == []


def test_unicode_and_spaces_in_paths(archive, make_audio, tmp_path):
    path = make_audio("Témoignage d'Aïssata — 2024 ✓.m4a", folder=tmp_path / "dossier été")
    result = ingest_file(archive, path, metadata=None)
    assert result.status == "ingested"


def test_interrupted_batch_leaves_nothing_half_done_and_resumes(archive, make_audio, tmp_path, monkeypatch):
    folder = tmp_path / "batch"
    for n in range(3):
        make_audio(f"{n}.wav", folder=folder, seed=n, sidecar={"consent": FULL_CONSENT, "sensitive_terms": ["Keita"]})
    real_record = pipeline._record
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            real_record(*args, **kwargs)  # the record is half-built inside the transaction...
            raise KeyboardInterrupt  # ...when the worker hits Ctrl-C
        return real_record(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_record", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        list(ingest_paths(archive, [folder]))
    assert count(archive, models.Testimony) == 1
    assert count(archive, ConsentRecord) == 1 and count(archive, SensitiveTerm) == 1
    with archive.session() as session:
        expected = set(session.scalars(select(MediaAsset.sha256)))
    assert archive.store.verify(expected).ok  # no orphan, nothing missing

    monkeypatch.setattr(pipeline, "_record", real_record)
    statuses = sorted(r.status for r in ingest_paths(archive, [folder]))
    assert statuses == ["duplicate", "ingested", "ingested"]
    assert count(archive, models.Testimony) == 3


def test_parallel_batch_gives_the_same_archive_as_one_by_one(archive, make_audio, tmp_path):
    folder = tmp_path / "batch"
    for n, fmt in enumerate(["wav", "ogg", "mp3", "m4a"]):
        make_audio(f"{n}.{fmt}", folder=folder, seed=n, sidecar={"consent": FULL_CONSENT, "sensitive_terms": [f"Nom{n}"]})
    (folder / "copie.wav").write_bytes((folder / "0.wav").read_bytes())  # same recording twice in one batch
    (folder / "cassé.mp3").write_bytes(b"nope")
    results = list(ingest_paths(archive, [folder], jobs=2))
    assert sorted(r.status for r in results) == ["duplicate", "failed", "ingested", "ingested", "ingested", "ingested"]
    assert count(archive, models.Testimony) == 4 and count(archive, SensitiveTerm) == 4
    with archive.session() as session:
        expected = set(session.scalars(select(MediaAsset.sha256)))
    assert archive.store.verify(expected).ok
    again = list(ingest_paths(archive, [folder], jobs=2))
    assert sorted(r.status for r in again) == ["duplicate"] * 5 + ["failed"]


def test_interrupted_parallel_batch_leaves_no_orphan_and_resumes(archive, make_audio, tmp_path, monkeypatch):
    folder = tmp_path / "batch"
    for n in range(4):
        make_audio(f"{n}.wav", folder=folder, seed=n, sidecar={"consent": FULL_CONSENT})
    real_record = pipeline._record
    calls = {"n": 0}

    def crash_on_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # Ctrl-C while workers have prepared files waiting to be recorded
        return real_record(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_record", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        list(ingest_paths(archive, [folder], jobs=2))
    assert count(archive, models.Testimony) == 1
    with archive.session() as session:
        expected = set(session.scalars(select(MediaAsset.sha256)))
    assert archive.store.verify(expected).ok  # the prepared-but-unrecorded files were released
    monkeypatch.setattr(pipeline, "_record", real_record)
    statuses = [r.status for r in ingest_paths(archive, [folder], jobs=2)]
    assert statuses == ["duplicate", "ingested", "ingested", "ingested"]


def stored_and_temporary(archive) -> tuple[list[str], list[str]]:
    tmp = archive.store.root / "tmp"
    return list(archive.store.stored()), sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def undecodable(folder: Path, stem: bytes, suffix: str) -> Path:
    """A path whose name is not UTF-8 (as a phone or an old Windows tool may write it)."""
    return Path(os.fsdecode(os.fsencode(folder) + b"/" + stem + suffix.encode()))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_name_that_is_not_utf8_is_ingested_escaped_and_the_batch_goes_on(archive, make_audio, tmp_path, jobs):
    folder = tmp_path / "batch"
    make_audio("a.wav", folder=folder, seed=1)
    odd = make_audio("odd.wav", folder=folder, seed=2, sidecar={"pseudonym": "Awa", "consent": FULL_CONSENT})
    os.rename(odd, undecodable(folder, b"t\xe9moignage", ".wav"))
    os.rename(odd.with_suffix(".yaml"), undecodable(folder, b"t\xe9moignage", ".yaml"))  # its sidecar, beside it
    make_audio("z.wav", folder=folder, seed=3)
    results = list(ingest_paths(archive, [folder], jobs=jobs))
    assert [r.status for r in results] == ["ingested"] * 3, [r.reason for r in results]
    with archive.session() as session:
        testimony = get(session, results[1].public_id)
        assert testimony.source_name == "t\\xe9moignage.wav"  # valid UTF-8 for the database and JSON
        assert testimony.pseudonym == "Awa" and testimony.consent is not None
        event = session.scalar(select(AuditEvent).where(AuditEvent.testimony_id == testimony.id,
                                                        AuditEvent.action == "testimony.ingest"))
        assert event.detail["file"] == "t\\xe9moignage.wav"
    assert stored_and_temporary(archive)[1] == []


def test_a_refused_file_with_an_undecodable_name_is_named_escaped(archive, tmp_path):
    path = undecodable(tmp_path, b"cass\xe9", ".mp3")
    path.write_bytes(b"not audio" * 50)
    result = ingest_file(archive, path)
    assert result.status == "failed" and result.reason.count("cass\\xe9.mp3") == 1
    result.reason.encode("utf-8")  # printable: no lone surrogate left
    assert stored_and_temporary(archive) == ([], [])


def _reason_cases(make_audio, tmp_path) -> dict[str, Path]:
    folder = tmp_path / "raisons"
    folder.mkdir()
    empty, text = folder / "vide.wav", folder / "texte.mp3"
    empty.write_bytes(b"")
    text.write_bytes(b"just text" * 100)
    silent = folder / "silence.wav"
    from archive.audio import encode
    encode(np.zeros(16000, dtype=np.float32), silent, rate=16000)
    cut = make_audio("coupé.mp3", folder=folder, seconds=3.5)
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 3])
    return {
        "introuvable": folder / "absent.wav", "vide": empty, "illisible": text, "silencieux": silent,
        "tronqué": cut, "trop long": make_audio("long.wav", folder=folder, seconds=5, seed=4),
        "champ": make_audio("fiche.wav", folder=folder, seed=5, sidecar={"language": "xx"}),
        "thème inconnu": make_audio("thème.wav", folder=folder, seed=6, sidecar={"themes": ["tourisme"]}),
    }


def test_every_refusal_names_its_file_once_by_the_path_given(settings, make_audio, tmp_path):
    from archive.db import Archive
    limited = Archive(settings.model_copy(update={"max_duration_s": 4.0}))
    try:
        for expected, path in _reason_cases(make_audio, tmp_path).items():
            [result] = list(ingest_paths(limited, [path]))
            assert result.status == "failed" and expected in result.reason, result.reason
            assert result.reason.count(str(path)) == 1 and result.reason.startswith(f"{path} : "), result.reason
            assert "\n" not in result.reason and result.exit_code == 2
        assert stored_and_temporary(limited) == ([], [])  # every failure took its files back
    finally:
        limited.dispose()


def test_relative_paths_are_named_as_given(archive, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dossier").mkdir()
    (tmp_path / "dossier" / "cassé.ogg").write_bytes(b"OggS garbage")
    [result] = list(ingest_paths(archive, [Path("dossier")]))
    assert result.reason.startswith("dossier/cassé.ogg : fichier audio illisible")


@pytest.mark.parametrize("when", ["decode", "commit"])
def test_a_file_failing_midway_leaves_no_temp_file_and_no_stored_original(archive, make_audio, when):
    path = make_audio("milieu.mp3", seconds=4, sidecar={"themes": ["tourisme"]} if when == "commit" else None)
    if when == "decode":  # refused after the original was copied into the store
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    result = ingest_file(archive, path)
    assert result.status == "failed"
    assert stored_and_temporary(archive) == ([], [])
    assert count(archive, models.Testimony) == 0


def test_a_store_that_cannot_be_written_fails_the_file_as_a_stage_error(archive, make_audio, monkeypatch):
    path = make_audio("plein.wav")

    def disk_full(self, source):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(MediaStore, "put_file", disk_full)
    result = ingest_file(archive, path)
    assert result.status == "failed" and result.exit_code == 7
    assert result.reason == f"{path} : écriture impossible dans le stockage (No space left on device)"


def fail_prepare_for(monkeypatch, name: str, error: Exception) -> None:
    """Make the (inline) file work of the file called ``name`` raise ``error``, as a bug would."""
    real_prepare = pipeline.prepare

    def buggy(settings, path, metadata):
        if path.name == name:
            raise error
        return real_prepare(settings, path, metadata)

    monkeypatch.setattr(pipeline, "prepare", buggy)


def test_an_unexpected_error_fails_one_file_and_the_batch_goes_on(archive, make_audio, tmp_path, monkeypatch):
    folder = tmp_path / "batch"
    for n in range(3):
        make_audio(f"{n}.wav", folder=folder, seed=n)
    fail_prepare_for(monkeypatch, "1.wav", RuntimeError("a bug"))
    results = list(ingest_paths(archive, [folder]))
    assert [r.status for r in results] == ["ingested", "failed", "ingested"]
    assert results[1].exit_code == 1
    assert results[1].reason == f"{folder / '1.wav'} : erreur inattendue (RuntimeError: a bug), à signaler"
