import hashlib
import os
import stat
import tempfile
import time
from pathlib import Path

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
    in_progress = store.temp_path(".flac")  # another process is writing it right now
    leftover = store.temp_path(".flac")
    leftover.write_bytes(b"half")
    old = time.time() - 7 * 3600
    os.utime(leftover, (old, old))
    assert [t.path for t in store.clean_temp()] == [leftover]
    assert not leftover.exists() and in_progress.exists()


def age(path, hours):
    old = time.time() - hours * 3600
    os.utime(path, (old, old))


def stale_temp(store, size: int, hours: float, build: bool = False):
    """A temporary left ``hours`` ago (by a writer of unknown fate: only its age tells): a file, or
    (``build``) an episode build's folder holding one."""
    (store.root / "tmp").mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkstemp(dir=store.root / "tmp", suffix=".build" if build else ".flac")[1])
    if build:
        temp.unlink()
        temp.mkdir()
        age(_write(temp / "master.wav", size), hours)
    else:
        _write(temp, size)
    age(temp, hours)
    return temp


def _write(path, size: int):
    path.write_bytes(b"x" * size)
    return path


def test_stale_temporaries_are_reported_with_their_bytes(store):
    store.temp_path(".flac").write_bytes(b"being written")
    stale = stale_temp(store, 1000, hours=2)
    report = store.verify([])
    assert [(t.path, t.size) for t in report.temporaries] == [(stale, 1000)]
    assert report.temporary_bytes == 1000 and report.temporaries[0].age_s >= 2 * 3600 - 5
    assert not report.ok


def test_an_episode_build_folder_left_in_tmp_is_cleaned_whole(store):
    """studio builds in a folder of tmp/: cleaning must not choke on it (it used to: unlink of a folder)."""
    build = stale_temp(store, 500, hours=3, build=True)
    [stale] = store.stale_temps()
    assert (stale.path, stale.size) == (build, 500)
    store.clean_temp()
    assert not build.exists()


def test_a_build_folder_still_being_written_is_not_stale(store):
    build = store.temp_path(".build")
    build.unlink()
    build.mkdir()
    age(build, 3)
    (build / "master.wav").write_bytes(b"written a moment ago")
    assert store.stale_temps() == [] and store.clean_temp() == []
    assert build.exists()


def test_storing_existing_content_again_makes_it_young(store):
    """An ingest that finds its original already stored (an orphan of a crashed run) is about to
    record it: verify --repair must not take it as abandoned meanwhile."""
    sha = store.put_bytes(b"orphan of a crashed ingest").sha256
    age(store.path(sha), 5)
    assert store.age_s(sha) > 4 * 3600
    assert not store.put_bytes(b"orphan of a crashed ingest").created
    assert store.age_s(sha) < 60


def test_a_killed_writers_temporary_is_cleared_by_the_next_writer_at_once(tmp_path):
    import subprocess
    import sys

    store = MediaStore(tmp_path / "media")
    code = ("import os, sys; from pathlib import Path; from archive.store import MediaStore; "
            "p = MediaStore(Path(sys.argv[1])).temp_path('.flac'); p.write_bytes(b'half'); print(p)")
    left = Path(subprocess.run([sys.executable, "-c", code, str(store.root)], capture_output=True, text=True,
                               check=True).stdout.strip())
    assert left.exists()
    mine = store.temp_path(".flac")
    assert not left.exists() and mine.exists()  # the dead writer's went when this one was made, young as it was
    assert store.stale_temps() == []  # a live writer's young temporary is not abandoned
