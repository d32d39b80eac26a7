"""Rebuild api/demo_data (needs espeak-ng): French speech, phrase by phrase, with exact VTT cue timings.

Run: .venv/bin/python docs/make_demo_samples.py

The voices are chosen for Whisper `base` (what `kuma demo` transcribes with; int8, the project's
decoding options, language fr), compared on the samples and on 20 more sentences. espeak-ng's plain
French voice and most variants are misheard (word error rate 0.35-0.8), its female variants worst.
"Mike" and "Edward2" (Klatt synthesizer) read slowly (110-120 words a minute instead of 145) are
heard best; sample 2's woman is Mike's timbre with a female pitch (about 200 Hz) and m2's light
echo: espeak's female variants, or raising the formants, double the errors. Light noise, reverb and
band-limiting only made things worse. "Bakary" is spoken as "Bakari" (espeak-ng reads "Bakary" as
an English word); the cues keep the written name.

Word error rate / mean word probability, samples 1-3 (through ingest's 16 kHz working copy):
before (m3, f2, m1 at 145 wpm) 34.6 % / 0.75, 68.0 % / 0.57, 44.8 % / 0.59;
now 24.7 % / 0.76, 30.0 % / 0.75, 10.3 % / 0.77. Any small change to the audio moves a sample's
figure by about 5 points (the float32 model gives 25.9 %, 32.0 %, 10.3 %).
"""
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from archive.audio import decode, encode
from archive.timecode import format_timecode

OUT = Path(__file__).resolve().parents[1] / "api" / "demo_data"
OUT.mkdir(exist_ok=True)
RATE = 16000

# Voice variants of our own, added to espeak-ng's (in a temporary copy of its data folder).
VARIANTS = {
    # Mike's formants and voicing, a female pitch, m2's echo
    "kuma-f": """language variant
name kuma-f
gender female
voicing 70
pitch 150 230
echo 130 15
formant 1 96 97 100
formant 2 96 97 100
formant 5 95 103 100
""",
}
SPOKEN = {"Bakary": "Bakari"}  # what espeak-ng is given instead of the written word

SAMPLES = {
    "sample-1-alger": {
        "voice": "fr+edward2", "pitch": 50, "speed": 110,
        "phrases": [
            "Je m'appelle Moussa Diarra, je viens de Kayes.",
            "Je suis parti en deux mille dix-neuf pour travailler en Algérie.",
            "Là-bas, la police nous a arrêtés sur un chantier.",
            "Ils nous ont gardés trois semaines dans un centre de rétention.",
            "Puis on nous a mis dans des camions jusqu'à la frontière, dans le désert.",
            "Mon numéro, c'est le soixante-seize, douze, trente-quatre, cinquante-six.",
            "Aux jeunes, je dis : l'aventure, ce n'est pas le paradis.",
        ],
        "meta": {
            "pseudonym": "Le voyageur de Kayes", "recorded_at": "2024-03-14", "place": "Bamako, bureau de l'association",
            "language": "fr", "expelled_from": "DZ", "route": "Gao – Tamanrasset", "interviewer": "Awa",
            "themes": ["expulsion", "détention", "voyage-désert", "démystification"],
            "consent": {"archive": True, "advocacy": True, "broadcast": True, "online": True,
                        "identity": "pseudonym", "voice": "disguise", "collected_by": "Awa", "method": "oral enregistré"},
            "sensitive_terms": ["Moussa Diarra", {"term": "Kayes", "kind": "place"},
                                {"term": "76 12 34 56", "kind": "phone"}],
        },
    },
    "sample-2-libye": {
        "voice": "fr+kuma-f", "pitch": 50, "speed": 110,
        "phrases": [
            "J'ai traversé le Niger avec mon cousin Bakary Traoré.",
            "En Libye, on nous a vendus comme des marchandises.",
            "J'ai travaillé des mois sans être payée.",
            "Quand je suis rentrée par l'aéroport de Bamako, je n'avais plus rien.",
            "Aujourd'hui, l'association m'aide pour ma réinsertion.",
        ],
        "meta": {
            "pseudonym": "Fatoumata", "recorded_at": "2024-05-02T10:30", "place": "Aéroport de Bamako",
            "language": "fr", "expelled_from": "LY", "route": "Agadez – Sebha",
            "themes": ["violences", "travail", "retour", "réinsertion"],
            "consent": {"archive": True, "advocacy": True, "broadcast": True, "online": False,
                        "identity": "anonymous", "voice": "disguise", "collected_by": "Issa", "method": "écrit"},
            "sensitive_terms": ["Bakary Traoré"],
        },
    },
    "sample-3-espagne": {
        "voice": "fr+Mike", "pitch": 50, "speed": 120,
        "phrases": [
            "Nous sommes partis en pirogue depuis la côte.",
            "Arrivés en Espagne, on nous a refoulés après deux jours.",
            "Je n'ai pas pu récupérer mes affaires ni mon argent.",
        ],
        "meta": {
            "pseudonym": "Sidi", "recorded_at": "2024-06-20", "place": "Antenne de Kayes",
            "language": "fr", "expelled_from": "ES", "route": "Nouadhibou – Canaries",
            "themes": ["refoulement", "voyage-mer", "biens-non-récupérés"],
            "consent": {"archive": True, "advocacy": False, "broadcast": False, "online": False,
                        "identity": "anonymous", "voice": "disguise"},
        },
    },
}

def espeak_data(folder: Path) -> Path:
    """espeak-ng's data folder, linked entry by entry into ``folder``, plus our voice variants."""
    version = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True).stdout
    system = Path(re.search(r"Data at: (.+)", version).group(1).strip())
    data = folder / "espeak-ng-data"
    variants = data / "voices" / "!v"
    variants.mkdir(parents=True)
    for entry in system.iterdir():
        if entry.name != "voices":
            (data / entry.name).symlink_to(entry)
    for entry in (system / "voices").iterdir():
        if entry.name != "!v":
            (data / "voices" / entry.name).symlink_to(entry)
    for entry in (system / "voices" / "!v").iterdir():
        (variants / entry.name).symlink_to(entry)
    for name, text in VARIANTS.items():
        (variants / name).write_text(text, encoding="utf-8")
    return folder


def speak(phrase: str, spec: dict, path: Path) -> np.ndarray:
    for written, spoken in SPOKEN.items():
        phrase = phrase.replace(written, spoken)
    with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
        subprocess.run(["espeak-ng", f"--path={path}", "-v", spec["voice"], "-p", str(spec["pitch"]),
                        "-s", str(spec["speed"]), "-w", wav.name, phrase], check=True)
        audio = decode(Path(wav.name), rate=RATE)
    # trim espeak's leading/trailing silence
    voiced = np.flatnonzero(np.abs(audio) > 0.01)
    return audio[max(voiced[0] - 160, 0): voiced[-1] + 160]


with tempfile.TemporaryDirectory() as tmp:
    path = espeak_data(Path(tmp))
    for name, spec in SAMPLES.items():
        pieces, cues, t = [np.zeros(int(0.4 * RATE), np.float32)], [], 0.4
        for phrase in spec["phrases"]:
            audio = speak(phrase, spec, path)
            cues.append((t, t + len(audio) / RATE, phrase))
            pieces += [audio * 0.8, np.zeros(int(0.5 * RATE), np.float32)]
            t += len(audio) / RATE + 0.5
        signal = np.concatenate(pieces)
        encode(signal, OUT / f"{name}.ogg", rate=RATE, fmt="ogg", bitrate=24000)
        vtt = ["WEBVTT", ""]
        for i, (start, end, text) in enumerate(cues, 1):
            vtt += [str(i), f"{format_timecode(start)} --> {format_timecode(end)}", text, ""]
        (OUT / f"{name}.vtt").write_text("\n".join(vtt), encoding="utf-8")
        (OUT / f"{name}.yaml").write_text(yaml.safe_dump(spec["meta"], allow_unicode=True, sort_keys=False), encoding="utf-8")
        print(name, f"{len(signal)/RATE:.1f}s", (OUT / f"{name}.ogg").stat().st_size, "bytes")
