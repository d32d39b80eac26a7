"""`kuma voice disguise` and `kuma voice modes` through the real `kuma` entry point, on real encoded audio."""
import json

import numpy as np
import pytest

from archive.audio import decode, encode, probe
from anonymization import voice
from tests.conftest import speechlike

SECRET = "voice-cli-secret"


@pytest.fixture
def run(cli):
    def _run(*args):
        return cli(*args, env={"KUMA_SECRET_KEY": SECRET})

    return _run


@pytest.fixture
def stereo_44k(tmp_path):
    """Seven seconds of speech-like stereo at 44.1 kHz, with an odd number of samples."""
    left = speechlike(7.0, rate=44100, seed=3, f0=110.0)[:-37]
    right = speechlike(7.0, rate=44100, seed=4, f0=115.0)[:-37]
    path = tmp_path / "entretien.flac"
    encode(np.stack([left, right], axis=1), path, rate=44100)
    return path


def test_same_key_same_file_and_length_and_rate_kept(run, stereo_44k, tmp_path):
    first, second = tmp_path / "a.flac", tmp_path / "b.flac"
    assert run("voice", "disguise", stereo_44k, first, "--key", "témoin-1")[0] == 0
    assert run("voice", "disguise", stereo_44k, second, "--key", "témoin-1")[0] == 0
    assert first.read_bytes() == second.read_bytes()  # deterministic, byte for byte
    info, source = probe(first), probe(stereo_44k)
    assert info.sample_rate == 44100 and info.channels == 1
    samples, original = decode(first, channels=1), decode(stereo_44k, channels=1)
    assert len(samples) == len(original)  # exactly as many samples as the input
    assert np.sqrt(np.mean(samples ** 2)) > 0.01 and np.max(np.abs(samples)) <= 1.0
    assert abs(info.duration - source.duration) < 1e-3


def test_different_keys_give_different_voices(run, stereo_44k, tmp_path):
    for label in ("témoin-1", "témoin-2"):
        assert run("voice", "disguise", stereo_44k, tmp_path / f"{label}.wav", "--key", label)[0] == 0
    one, two = (decode(tmp_path / f"{label}.wav") for label in ("témoin-1", "témoin-2"))
    assert len(one) == len(two)
    assert np.sqrt(np.mean((one - two) ** 2)) > 0.1 * np.sqrt(np.mean(one ** 2))


def test_wav_output_at_16k_and_the_modes_differ(run, make_audio, tmp_path):
    source = make_audio("court.wav", seconds=4.0, rate=16000)
    outputs = {}
    for mode in ("light", "strong"):
        out = tmp_path / f"{mode}.wav"
        code, _, err = run("voice", "disguise", source, out, "--key", "x", "--mode", mode)
        assert code == 0, err
        info = probe(out)
        assert (info.format, info.codec, info.sample_rate, info.channels) == ("wav", "pcm_s16le", 16000, 1)
        outputs[mode] = decode(out)
    assert len(outputs["light"]) == len(decode(source))
    assert not np.allclose(outputs["light"], outputs["strong"], atol=1e-3)


def test_json_reports_the_voice_and_never_the_secret(run, make_audio, tmp_path):
    source = make_audio("court.wav", seconds=3.0)
    code, out, _ = run("voice", "disguise", source, tmp_path / "o.flac", "--key", "étiquette-secrète", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["mode"] == "standard" and report["duration"] == pytest.approx(3.0, abs=1e-3)
    assert report["sample_rate"] == 16000 and report["channels"] == 1 and report["speed"] > 0
    key = voice.VoiceKey.derive(SECRET, "étiquette-secrète")
    # the voice the file was given: the key's, in the register drawn against the speaker's own
    candidates = [json.loads(json.dumps(voice.pseudo_voice(key, "standard", f0).describe())) for f0 in (120.0, 220.0)]
    assert report["voice"] in candidates
    assert set(report) == {"input", "output", "duration", "sample_rate", "channels", "speed", "mode", "voice"}
    assert SECRET not in out and "étiquette-secrète" not in out and "draws" not in out


def test_refusals_exit_2_with_one_line(run, make_audio, tmp_path):
    source = make_audio("court.wav", seconds=2.0)
    code, _, err = run("voice", "disguise", source, tmp_path / "o.mp3", "--key", "x")
    assert code == 2 and "o.mp3" in err and ".wav ou .flac" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.mp3").exists()
    code, _, err = run("voice", "disguise", tmp_path / "absent.wav", tmp_path / "o.wav", "--key", "x")
    assert code == 2 and "absent.wav" in err and "introuvable" in err
    broken = tmp_path / "cassé.wav"
    broken.write_bytes(b"RIFF garbage")
    code, _, err = run("voice", "disguise", broken, tmp_path / "o.wav", "--key", "x")
    assert code == 2 and "cassé.wav : fichier audio illisible" in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "o.wav").exists()


def test_output_may_replace_the_input(run, make_audio):
    source = make_audio("sur-place.wav", seconds=2.0)
    before = decode(source)
    assert run("voice", "disguise", source, source, "--key", "x")[0] == 0
    after = decode(source)
    assert len(after) == len(before) and not np.allclose(after, before, atol=1e-3)


def test_modes_say_not_measured_until_the_benchmark_figures_exist(run, monkeypatch):
    monkeypatch.setattr(voice, "MEASURED", {})
    code, out, _ = run("voice", "modes", "--json")
    listed = json.loads(out)
    assert code == 0 and listed["count"] == 3
    assert [(m["mode"], m["default"], m["measured"]) for m in listed["data"]] == [
        ("light", False, None), ("standard", True, None), ("strong", False, None)]
    assert all(m["description"] for m in listed["data"])
    code, out, _ = run("voice", "modes")
    assert code == 0 and out.count("non mesuré") == 3 and "standard (défaut)" in out


def test_modes_print_the_measured_figures(run, monkeypatch):
    figures = {"eer_ignorant": 0.47, "eer_lazy": 0.42, "wer_added": 0.061, "speed": 23.4}
    monkeypatch.setattr(voice, "MEASURED", {voice.Mode.STANDARD: figures})
    code, out, _ = run("voice", "modes")
    assert code == 0 and "EER ignorant 47%" in out and "EER informé 42%" in out and "WER ajouté 6 points" in out
    assert "23.4 × le temps réel" in out and out.count("non mesuré") == 2  # light and strong: no figures
    listed = json.loads(run("voice", "modes", "--json")[1])
    assert listed["data"][1]["measured"] == figures
