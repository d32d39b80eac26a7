import hashlib
import os
import stat
import time

import pytest

from archive.errors import IntegrityError, NotFound
from archive.store import MediaStore


@pytest.fixture
def store(tmp_path):
    return MediaStore(tmp_path / "media")


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_put_file_is_content_addressed_and_private(store, tmp_path):
    source = tmp_path / "a.bin"
    source.write_bytes(b"testimony" * 1000)
    stored = store.put_file(source)
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert stored.created and stored.size == 9000
    path = store.path(stored.sha256)
    assert path.read_bytes() == source.read_bytes()
    assert mode(path) == 0o600
    assert mode(store.root) == 0o700 and mode(path.parent) == 0o700


def test_same_content_is_stored_once(store):
    first = store.put_bytes(b"same")
    second = store.put_bytes(b"same")
    assert first.sha256 == second.sha256 and not second.created
    assert list(store.stored()) == [first.sha256]
    assert not any((store.root / "tmp").iterdir())


def test_verify_reports_missing_corrupt_and_orphan_files(store):
    good = store.put_bytes(b"good").sha256
    tampered = store.put_bytes(b"will be tampered").sha256
    orphan = store.put_bytes(b"nobody refers to me").sha256
    os.chmod(store.path(tampered), 0o600)
    store.path(tampered).write_bytes(b"changed")
    missing = "0" * 64
    report = store.verify([good, tampered, missing])
    assert report.checked == 3
    assert report.missing == [missing]
    assert report.corrupt == [tampered]
    assert report.orphans == [orphan]
    assert not report.ok
    with pytest.raises(IntegrityError):
        store.check(tampered)


def test_open_missing_media_is_a_named_error(store):
    with pytest.raises(NotFound):
        store.open("f" * 64)


def test_clean_temp_removes_interrupted_writes_but_not_fresh_ones(store):
    leftover = store.temp_path(".flac")
    leftover.write_bytes(b"half")
    old = time.time() - 7 * 3600
    os.utime(leftover, (old, old))
    in_progress = store.temp_path(".flac")  # another process is writing it right now
    assert store.clean_temp() == 1
    assert not leftover.exists() and in_progress.exists()
