"""The episode's text side files: chapters (Podcasting 2.0 JSON), transcript (VTT, SRT,
Podcasting 2.0 JSON) stitched from the excerpts' *redacted* segments, cue sheet (CSV, text)
and show notes (Markdown, HTML) in French.

Everything here is built only from what the consent decision allows out: redacted segments,
speaker labels from ``Decision.speaker_label``, theme labels, the producer's titles.
``assert_clean`` checks the result against the testimonies' sensitive terms before it is stored.

The transcript files are written by ``transcripts.formats`` (the transcription area's writers).
"""
from __future__ import annotations

import csv
import html
import io
import json
from datetime import date

from archive.errors import ConsentRefused
from archive.text import mentioned
from archive.timecode import format_timecode
from studio.mix import Piece, Timeline
from transcripts import formats

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
KIND_FR = {"jingle": "Jingle", "host": "Animation", "excerpt": "Témoignage", "bed": "Musique", "silence": "Silence"}


def french_date(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def clock(seconds: float) -> str:
    """Cue times people read: H:MM:SS or MM:SS, to the nearest second."""
    return format_timecode(seconds, millis=False, nearest=True, short=True)


# --- chapters and cue sheet -------------------------------------------------------------------

def chapters(timeline: Timeline) -> list[dict]:
    return [entry for entry in timeline.cue if entry["chapter"] and entry["kind"] != "silence"]


def chapters_json(timeline: Timeline, title: str) -> bytes:
    """Podcasting 2.0 JSON chapters (version 1.2.0)."""
    data = {"version": "1.2.0", "title": title,
            "chapters": [{"startTime": round(c["start"], 3), "endTime": round(c["start"] + c["duration"], 3),
                          "title": c["title"]} for c in chapters(timeline)]}
    return _json(data)


def cue_csv(cue: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["n", "debut", "duree", "debut_s", "duree_s", "type", "titre", "intervenant"])
    for number, entry in enumerate(cue, 1):
        writer.writerow([number, format_timecode(entry["start"]), format_timecode(entry["duration"]),
                         f"{entry['start']:.3f}", f"{entry['duration']:.3f}", entry["kind"], entry["title"],
                         entry.get("speaker") or ""])
    return out.getvalue().encode("utf-8")


def cue_text(cue: list[dict], heading: str, total: float) -> bytes:
    lines = [heading, f"Durée totale : {format_timecode(total)}", ""]
    lines.append(f"{'n':>3}  {'début':<12}  {'durée':<12}  {'type':<11}  titre")
    for number, entry in enumerate(cue, 1):
        who = f" ({entry['speaker']})" if entry.get("speaker") else ""
        lines.append(f"{number:>3}  {format_timecode(entry['start']):<12}  {format_timecode(entry['duration']):<12}  "
                     f"{KIND_FR[entry['kind']]:<11}  {entry['title']}{who}")
    return ("\n".join(lines) + "\n").encode("utf-8")


# --- transcript ---------------------------------------------------------------------------------

def stitch_transcript(pieces: list[Piece], timeline: Timeline) -> list[dict]:
    """Redacted segments of every excerpt, moved to programme time and cut to the excerpt."""
    out = []
    for piece, entry in zip(pieces, timeline.cue):
        for segment in piece.transcript:  # relative to the excerpt's start in the source
            start, end = max(0.0, segment["start"]), min(piece.duration, segment["end"])
            if end <= start or not segment["text"].strip():
                continue
            out.append({"start": round(entry["start"] + start, 3), "end": round(entry["start"] + end, 3),
                        "speaker": piece.speaker or "", "text": segment["text"].strip()})
    return out


def transcript_vtt(segments: list[dict]) -> bytes:
    return formats.write_vtt(_cues(segments)).encode("utf-8")


def transcript_srt(segments: list[dict]) -> bytes:
    return formats.write_srt(_cues(segments)).encode("utf-8")


def transcript_json(segments: list[dict]) -> bytes:
    """Podcasting 2.0 JSON transcript (version 1.0.0)."""
    return formats.write_podcast_json(_cues(segments)).encode("utf-8")


def _cues(segments: list[dict]) -> list:
    return formats.as_cues([{**segment, "idx": index, "speaker": segment["speaker"] or None}
                            for index, segment in enumerate(segments)])


# --- show notes -------------------------------------------------------------------------------

def shownotes(meta: dict, timeline: Timeline, themes: list[str], speakers: list[str]) -> tuple[bytes, bytes]:
    """(Markdown, HTML) show notes. ``meta``: title, programme, number, date, description."""
    lines = [f"# {meta['title']}", "", f"*{meta['programme']} — épisode {meta['number']} — {french_date(meta['date'])}*", ""]
    if meta.get("description"):
        lines += [meta["description"].strip(), ""]
    lines += ["## Au sommaire", ""]
    for entry in chapters(timeline):
        who = f" — {entry['speaker']}" if entry.get("speaker") else ""
        lines.append(f"- **{clock(entry['start'])}** {KIND_FR[entry['kind']]} : {entry['title']}{who}")
    lines.append("")
    if themes:
        lines += ["## Thèmes", "", ", ".join(themes), ""]
    if speakers:
        lines += ["## Témoins", ""] + [f"- {name}" for name in speakers] + [""]
    lines += ["Les témoignages sont diffusés avec l'accord des personnes, sous une forme anonymisée "
              "(voix transformée, informations personnelles retirées).", ""]
    markdown = "\n".join(lines)
    return markdown.encode("utf-8"), _html(meta, timeline, themes, speakers).encode("utf-8")


def _html(meta: dict, timeline: Timeline, themes: list[str], speakers: list[str]) -> str:
    e = html.escape
    parts = [f"<h1>{e(meta['title'])}</h1>",
             f"<p><em>{e(meta['programme'])} — épisode {meta['number']} — {e(french_date(meta['date']))}</em></p>"]
    if meta.get("description"):
        parts.append(f"<p>{e(meta['description'].strip())}</p>")
    parts.append("<h2>Au sommaire</h2>\n<ul>")
    for entry in chapters(timeline):
        who = f" — {e(entry['speaker'])}" if entry.get("speaker") else ""
        parts.append(f"<li><strong>{clock(entry['start'])}</strong> {e(KIND_FR[entry['kind']])} : "
                     f"{e(entry['title'])}{who}</li>")
    parts.append("</ul>")
    if themes:
        parts += ["<h2>Thèmes</h2>", f"<p>{e(', '.join(themes))}</p>"]
    if speakers:
        parts += ["<h2>Témoins</h2>", "<ul>"] + [f"<li>{e(name)}</li>" for name in speakers] + ["</ul>"]
    parts.append("<p>Les témoignages sont diffusés avec l'accord des personnes, sous une forme anonymisée "
                 "(voix transformée, informations personnelles retirées).</p>")
    return "\n".join(parts) + "\n"


# --- the guard --------------------------------------------------------------------------------

def find_sensitive(text: str, terms: list[str]) -> bool:
    """Whether ``text`` mentions one of the terms, as the redactor hears them (``archive.text.mentioned``):
    misspelled or misheard ("Diara", "Kaies") as well as written as they are."""
    return bool(mentioned(text, terms))


def assert_clean(files: dict[str, bytes], terms: list[str]) -> None:
    """Refuse to let out any text file that contains a testimony's sensitive term."""
    for name, data in files.items():
        if find_sensitive(data.decode("utf-8"), terms):
            raise ConsentRefused(f"{name} contient un terme sensible d'un témoignage : fichier non publié")


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
