"""Rebuild api/demo_data (needs espeak-ng): French speech, phrase by phrase, with exact VTT cue timings.

Run: .venv/bin/python docs/make_demo_samples.py
"""
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

SAMPLES = {
    "sample-1-alger": {
        "voice": "fr+m3", "pitch": 40,
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
        "voice": "fr+f2", "pitch": 60,
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
        "voice": "fr+m1", "pitch": 30,
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

for name, spec in SAMPLES.items():
    pieces, cues, t = [np.zeros(int(0.4 * RATE), np.float32)], [], 0.4
    for phrase in spec["phrases"]:
        with tempfile.NamedTemporaryFile(suffix=".wav") as wav:
            subprocess.run(["espeak-ng", "-v", spec["voice"], "-p", str(spec["pitch"]), "-s", "145", "-w", wav.name, phrase], check=True)
            audio = decode(Path(wav.name), rate=RATE)
        # trim espeak's leading/trailing silence
        voiced = np.flatnonzero(np.abs(audio) > 0.01)
        audio = audio[max(voiced[0] - 160, 0): voiced[-1] + 160]
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
