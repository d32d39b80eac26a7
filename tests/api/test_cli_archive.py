"""The archive commands through the real `kuma` entry point: exit codes, one-line errors, --json."""
import json
import os

from tests.conftest import FULL_CONSENT


def test_ingest_reports_each_file_and_exits_non_zero_on_any_failure(cli, make_audio, tmp_path):
    good = make_audio("bon.wav", sidecar={"consent": FULL_CONSENT})
    bad = tmp_path / "incoming" / "cassé.mp3"
    bad.write_bytes(b"garbage")
    code, out, err = cli("ingest", tmp_path / "incoming")
    assert code == 7
    assert "bon.wav → T-000001" in out and "cassé.mp3 : fichier audio illisible" in out
    assert "Ingérés : 1" in out and "refusés : 1" in out
    assert "Traceback" not in out + err
    code, out, _ = cli("ingest", good)
    assert code == 0 and "déjà ingéré (T-000001)" in out


def test_missing_path_and_usage_errors(cli, tmp_path):
    code, out, _ = cli("ingest", tmp_path / "nowhere.wav")
    assert code == 7 and "introuvable" in out
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
