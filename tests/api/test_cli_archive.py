"""The archive commands through the real `kuma` entry point: exit codes, one-line errors, --json."""
import errno
import json
import os
from pathlib import Path

import pytest

from archive.store import MediaStore
from tests.archive.test_store import age, stale_temp
from tests.conftest import FULL_CONSENT
from tests.ingest.test_ingest import fail_prepare_for


def test_ingest_reports_each_file_and_exits_non_zero_on_any_failure(cli, make_audio, tmp_path):
    good = make_audio("bon.wav", sidecar={"consent": FULL_CONSENT})
    bad = tmp_path / "incoming" / "cassé.mp3"
    bad.write_bytes(b"garbage")
    code, out, err = cli("ingest", tmp_path / "incoming")
    assert code == 2  # every failure is bad input
    assert "bon.wav → T-000001" in out and f"{bad} : fichier audio illisible" in out
    assert "Ingérés : 1" in out and "refusés : 1" in out
    assert "Traceback" not in out + err
    code, out, _ = cli("ingest", good)
    assert code == 0 and "déjà ingéré (T-000001)" in out


def test_missing_path_and_usage_errors(cli, tmp_path):
    code, out, _ = cli("ingest", tmp_path / "nowhere.wav")
    assert code == 2 and f"{tmp_path / 'nowhere.wav'} : fichier introuvable" in out
    code, _, err = cli("testimonies", "show", "T-999999")
    assert code == 4 and "témoignage inconnu" in err and len(err.strip().splitlines()) == 1


def test_testimonies_list_and_show_json(cli, make_audio):
    make_audio("a.wav", seed=1, sidecar={"language": "fr", "themes": ["visa"], "consent": FULL_CONSENT})
    make_audio("b.wav", seed=2, sidecar={"language": "bm", "themes": ["retour"]})
    assert cli("ingest", make_audio("c.wav", seed=3).parent)[0] == 0
    code, out, _ = cli("testimonies", "list", "--json", "--theme", "visa")
    listing = json.loads(out)
    assert code == 0 and listing["count"] == 1 and listing["data"][0]["themes"] == ["visa"]
    code, out, _ = cli("testimonies", "list", "--json", "--use", "process")
    assert {row["id"] for row in json.loads(out)["data"]} == {"T-000001"}
    code, out, _ = cli("testimonies", "show", "t-000002", "--json")
    shown = json.loads(out)
    assert shown["language"] == "bm" and {m["kind"] for m in shown["media"]} == {"original", "working"}
    assert shown["reasons"]["process"] == "aucun consentement enregistré"
    code, _, err = cli("testimonies", "list", "--theme", "tourisme")
    assert code == 2 and "thème inconnu" in err


def test_consent_set_show_and_withdraw(cli, make_audio):
    cli("ingest", make_audio("a.wav"))
    code, out, _ = cli("consent", "set", "T-000001", "--archive", "oui", "--broadcast", "oui", "--identity", "pseudonym")
    assert code == 0 and "version 1" in out
    code, out, _ = cli("consent", "show", "T-000001", "--json")
    shown = json.loads(out)
    assert shown["history"][0]["broadcast"] is True
    assert shown["decisions"]["process"]["allowed"] is True
    assert shown["decisions"]["broadcast"]["allowed"] is False  # no approved rendition yet
    code, _, err = cli("consent", "set", "T-000001", "--voice", "robot")
    assert code == 2 and "voice" in err
    assert shown["history"][0]["voice_mode"] == "standard"
    code, out, _ = cli("consent", "set", "T-000001", "--voice-mode", "strong")
    assert code == 0 and "version 2" in out
    assert json.loads(cli("consent", "show", "T-000001", "--json")[1])["history"][1]["voice_mode"] == "strong"
    code, _, err = cli("consent", "set", "T-000001", "--voice-mode", "fort")
    assert code == 2 and "voice_mode" in err and "light, standard, strong" in err
    code, _, err = cli("consent", "set", "T-000001", "--online", "peut-être")
    assert code == 2 and "oui/non" in err
    code, out, _ = cli("consent", "withdraw", "T-000001")
    assert code == 0 and "retiré" in out
    shown = json.loads(cli("consent", "show", "T-000001", "--json")[1])
    assert len(shown["history"]) == 3
    assert not any(d["allowed"] for d in shown["decisions"].values())


def test_verify_detects_a_tampered_file(cli, make_audio, tmp_path):
    home = tmp_path / "kuma-home"
    cli("ingest", make_audio("a.wav"), home=home)
    code, out, _ = cli("verify", home=home)
    assert code == 0 and "2 fichier(s) vérifié(s) : 0 manquant(s), 0 altéré(s), 0 orphelin(s)" in out
    stored = sorted(p for p in (home / "media").rglob("*") if p.is_file() and len(p.name) == 64)
    os.chmod(stored[0], 0o600)
    stored[0].write_bytes(b"tampered")
    code, out, err = cli("verify", home=home)
    assert code == 6 and "altéré" in out and "ne correspond pas" in err
    stored[0].unlink()
    code, out, _ = cli("verify", home=home)
    assert code == 6 and "manquant" in out


def test_one_bad_file_is_bad_input(cli, tmp_path):
    bad = tmp_path / "un_mauvais.wav"
    bad.write_bytes(b"RIFF....WAVEgarbage")
    code, out, err = cli("ingest", bad)
    assert code == 2 and f"{bad} : fichier audio illisible" in out
    assert err.strip() == "Erreur : 1 fichier(s) non ingéré(s), voir ci-dessus"


def test_a_batch_exits_with_its_most_serious_failure(cli, make_audio, tmp_path, monkeypatch):
    good, full = make_audio("bon.wav", seed=1), make_audio("plein.wav", seed=2)
    bad = tmp_path / "incoming" / "cassé.mp3"
    bad.write_bytes(b"garbage")
    real_put = MediaStore.put_file

    def disk_full_for(self, source):
        if Path(source).name == "plein.wav":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_put(self, source)

    monkeypatch.setattr(MediaStore, "put_file", disk_full_for)
    code, out, _ = cli("ingest", "-j", "1", bad, full, good)
    assert code == 7 and "bon.wav → T-000001" in out and "écriture impossible dans le stockage" in out


def test_an_unexpected_error_in_one_file_exits_1_after_the_others(cli, make_audio, monkeypatch):
    first, second = make_audio("a.wav", seed=1), make_audio("b.wav", seed=2)
    fail_prepare_for(monkeypatch, "a.wav", KeyError("x"))
    code, out, err = cli("ingest", "-j", "1", first, second)
    assert code == 1 and "b.wav → T-000001" in out and "erreur inattendue (KeyError" in out
    assert "Traceback" not in out + err and "à signaler" in err


def test_a_name_that_is_not_utf8_goes_through_the_whole_command(cli, make_audio, tmp_path):
    folder = tmp_path / "incoming"
    make_audio("a.wav", seed=1)
    odd = make_audio("odd.wav", seed=2)
    odd.rename(Path(os.fsdecode(os.fsencode(folder) + b"/t\xe9moignage.wav")))
    broken = Path(os.fsdecode(os.fsencode(folder) + b"/cass\xe9.mp3"))
    broken.write_bytes(b"garbage")
    make_audio("z.wav", seed=3)
    code, out, err = cli("ingest", "-j", "2", folder)
    assert "t\\xe9moignage.wav → T-" in out and "a.wav → T-" in out and "z.wav → T-" in out
    assert "cass\\xe9.mp3 : fichier audio illisible" in out
    assert code == 2 and "Traceback" not in out + err
    assert not any((tmp_path / "kuma-home" / "media" / "tmp").iterdir())


@pytest.fixture
def leftovers(cli, make_audio, tmp_path):
    """An archive with one testimony, an old orphan, a stale temp file and build folder, and a
    temp file being written now."""
    home = tmp_path / "kuma-home"
    assert cli("ingest", make_audio("a.wav"), home=home)[0] == 0
    store = MediaStore(home / "media")
    orphan = store.put_bytes(b"stored, then the process was killed before its record").sha256
    age(store.path(orphan), 2)
    fresh = store.temp_path(".flac")
    fresh.write_bytes(b"being written")
    stale, build = stale_temp(store, 1000, hours=2), stale_temp(store, 500, hours=3, build=True)
    return home, store, orphan, stale, build, fresh


def test_verify_reports_orphans_and_stale_temporaries_with_their_bytes(cli, leftovers):
    home, _store, orphan, stale, build, _fresh = leftovers
    code, out, err = cli("verify", home=home)
    assert code == 6 and "ne correspond pas" in err
    assert f"orphelin {orphan}" in out
    assert f"temporaire abandonné {stale.name} (1000 octet(s), 2 h)" in out
    assert f"temporaire abandonné {build.name} (500 octet(s), 3 h)" in out
    assert "1 orphelin(s), 2 temporaire(s) abandonné(s) (1500 octet(s))" in out
    code, out, _ = cli("verify", "--json", home=home)
    report = json.loads(out)
    assert code == 6 and report["ok"] is False and report["orphans"] == [orphan]
    assert sorted((t["name"], t["bytes"]) for t in report["temporaries"]) == sorted([(stale.name, 1000), (build.name, 500)])
    assert report["temporary_bytes"] == 1500 and "removed" not in report


def test_verify_repair_removes_orphans_and_stale_temporaries_not_fresh_ones(cli, leftovers):
    home, store, orphan, stale, build, fresh = leftovers
    code, out, _ = cli("verify", "--repair", home=home)
    assert code == 0, out
    assert f"supprimé orphelin {orphan}" in out and f"supprimé temporaire {stale.name}" in out
    assert not store.exists(orphan) and not stale.exists() and not build.exists()
    assert fresh.exists()  # being written right now
    code, out, _ = cli("verify", "--json", home=home)
    assert code == 0 and json.loads(out) == {"checked": 2, "missing": [], "corrupt": [], "orphans": [],
                                             "temporaries": [], "temporary_bytes": 0, "ok": True}


def test_verify_repair_leaves_a_young_orphan_and_says_so(cli, make_audio, tmp_path):
    home = tmp_path / "kuma-home"
    cli("ingest", make_audio("a.wav"), home=home)
    young = MediaStore(home / "media").put_bytes(b"an ingest may be about to record me").sha256
    code, out, _ = cli("verify", "--repair", "--json", home=home)
    report = json.loads(out)
    assert code == 6 and report["orphans"] == [young] and report["removed"]["orphans"] == [] and not report["ok"]
    code, out, _ = cli("verify", "--repair", home=home)
    assert code == 6 and "1 orphelin(s) laissé(s)" in out
    assert MediaStore(home / "media").exists(young)


def test_verify_repair_cannot_mend_a_missing_file(cli, make_audio, tmp_path):
    home = tmp_path / "kuma-home"
    cli("ingest", make_audio("a.wav"), home=home)
    stored = sorted(p for p in (home / "media").rglob("*") if p.is_file() and len(p.name) == 64)
    stored[0].unlink()
    code, out, _ = cli("verify", "--repair", home=home)
    assert code == 6 and "manquant" in out
