"""One sync, in this order:

1. the feed (conditional GET; a refused token stops here, deleting nothing);
2. the takedown list: every listed episode's file, sidecar and partial download are deleted and
   the deletion recorded, before any download; the list is read again between two downloads, so a
   takedown published during a long sync is executed in the same run;
3. the RFC 5005 archive pages, while the station wants more episodes than the current page has;
4. each wanted episode missing or outdated, newest first: download (resumable), verify, move in,
   sidecar; then the playlists;
5. with ``keep``: episodes beyond the newest ``keep`` leave the folder;
6. "aired at" lines from the playout log, then the receipt to the archive.

state.json is saved after each step that changes the folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urljoin

from station import CLIENT, folder, state as state_module
from station.config import Config
from station.errors import AccessRefused, DiskFull, HTTPStatusError, IntegrityFailure, LinkDown, StationError, redact
from station.feed import Episode, FeedError, Page, Rendition, Takedown, parse_feed, parse_takedowns
from station.link import Link
from station.state import State

REFUSED = {401, 403, 404, 410}
DISK_MARGIN = 50_000_000  # bytes left free beside a download
MAX_PAGES = 200
AIRED_KEPT = 10_000
HOOK_TIMEOUT = 300  # seconds
TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)")
STEM_EXTENSIONS = ("wav", "mp3", "opus", "ogg", "m4a", "flac", "json")


@dataclass
class Outcome:
    """What one sync did (the CLI prints it; state.json keeps a summary)."""

    started: datetime
    feed_title: str = ""
    offered: int = 0
    installed: list[str] = field(default_factory=list)
    taken_down: list[str] = field(default_factory=list)
    rotated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    receipt: str | None = None
    received_bytes: int = 0
    finished: datetime | None = None

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> dict:
        return {"started": _iso(self.started), "finished": _iso(self.finished), "offered": self.offered,
                "installed": self.installed, "taken_down": self.taken_down, "rotated": self.rotated,
                "failed": [{"slug": s, "reason": r} for s, r in self.failed], "problems": self.problems,
                "receipt": self.receipt, "received_bytes": self.received_bytes}


Say = Callable[[str], None]
Progress = Callable[[str, int, int], None]


def make_link(config: Config) -> Link:
    return Link(timeout=config.timeout, retries=config.retries, backoff=config.backoff,
                max_backoff=config.max_backoff, rate_limit=config.rate_limit)


def sync(config: Config, *, link: Link | None = None, say: Say = lambda _: None,
         progress: Progress | None = None, now: Callable[[], datetime] | None = None) -> Outcome:
    now = now or (lambda: datetime.now(timezone.utc))
    with state_module.locked(config.state):
        run = _Run(config, state_module.load(config.state), link or make_link(config), say, progress, now)
        return run.go()


class _Run:
    def __init__(self, config: Config, state: State, link: Link, say: Say, progress: Progress | None, now):
        self.config, self.state, self.link, self.say, self.progress, self.now = config, state, link, say, progress, now
        self.outcome = Outcome(started=now())
        self.takedown_url = urljoin(config.feed, "takedown.json")
        self.withdrawn: dict[str, Takedown] = {}
        self.link_down = False

    def go(self) -> Outcome:
        try:
            try:
                page = self._page(self.config.feed, "feed.xml", first=True)
            except (FeedError, HTTPStatusError):
                self._takedowns_anyway()  # a broken feed must not keep a withdrawn episode on air
                raise
            self.outcome.feed_title = page.title
            if page.takedown_url:
                self.takedown_url = page.takedown_url
            self._takedowns()
            episodes = self._wanted(page)
            self.outcome.offered = len(episodes)
            self._downloads(episodes)
            self._rotate(episodes)
            self._drop_stale_partials(episodes)
        finally:
            self._finish()
        self._report()
        return self.outcome

    # --- feed --------------------------------------------------------------------------------

    def _page(self, url: str, name: str, *, first: bool = False) -> Page:
        return parse_feed(self._document(url, name, refused_means_revoked=first))

    def _document(self, url: str, name: str, *, refused_means_revoked: bool = False) -> bytes:
        known = self.state.documents.get(name, {})
        cached = self.state.cached(name)
        try:
            fetched = self.link.document(url, etag=known.get("etag") if cached is not None else None,
                                         modified=known.get("modified") if cached is not None else None)
        except HTTPStatusError as error:
            if refused_means_revoked and error.status in REFUSED:
                raise AccessRefused(
                    f"le serveur refuse ce flux (HTTP {error.status}) : l'accès de cette radio a été révoqué, "
                    "ou l'adresse est fausse. Rien n'a été supprimé. Contactez l'association pour une "
                    "nouvelle adresse, puis « kuma-station init --feed <adresse> ».") from None
            raise
        if fetched.body is None:
            return cached
        self.state.cache(name, fetched.body, fetched.etag, fetched.modified)
        return fetched.body

    def _wanted(self, page: Page) -> list[Episode]:
        """Every episode offered (newest first), walking archive pages while more are wanted."""
        keep = self.config.keep
        episodes, seen, number = list(page.episodes), {e.guid for e in page.episodes}, 0
        previous = page.prev_archive
        while previous and (not keep or len(episodes) < keep) and number < MAX_PAGES:
            number += 1
            older = self._page(previous, f"archive-{number}.xml")
            episodes += [e for e in older.episodes if e.guid not in seen]
            seen |= {e.guid for e in older.episodes}
            previous = older.prev_archive
        episodes = [e for e in episodes if e.guid not in self.withdrawn]
        episodes.sort(key=lambda e: (e.published or datetime.min.replace(tzinfo=timezone.utc), e.number or 0),
                      reverse=True)
        return episodes[:keep] if keep else episodes

    # --- takedowns ---------------------------------------------------------------------------

    def _takedowns(self) -> None:
        """Read takedown.json (conditional GET) and execute what it lists that this station has
        not executed for this listing yet."""
        listed = parse_takedowns(self._document(self.takedown_url, "takedown.json"))
        self.withdrawn = {t.guid: t for t in listed}
        executed = False
        for item in listed:
            done = self.state.takedowns.get(item.guid) or {}
            held = item.guid in self.state.episodes
            hook_owed = done.get("hook_pending", False)
            if done.get("listed_at") == item.taken_down_at and not held and not hook_owed and not self._leftovers(item):
                continue
            deleted = self._delete_episode(item)
            files = sorted(set(deleted) | set(done.get("files_deleted", []) if hook_owed else []))
            entry = {"slug": item.slug, "listed_at": item.taken_down_at, "executed_at": _iso(self.now()),
                     "files_deleted": files}
            if held or deleted or hook_owed:  # its playout system may hold a copy too
                entry["hook_pending"] = not self._hook(self.config.on_takedown, "retrait", {
                    "KUMA_SLUG": item.slug, "KUMA_GUID": item.guid, "KUMA_FILES": " ".join(files),
                    "KUMA_FOLDER": str(self.config.folder)})
            self.state.takedowns[item.guid] = entry
            if deleted:
                executed = True
                self.outcome.taken_down.append(item.slug)
                self.say(f"retrait exécuté : {item.slug} ({', '.join(deleted)} supprimé(s))")
            self.state.save()
        if executed:
            self._playlists()

    def _takedowns_anyway(self) -> None:
        try:
            self._takedowns()
        except StationError as error:
            self.outcome.problems.append(f"liste des retraits non lue : {error}")

    def _leftovers(self, item: Takedown) -> list[str]:
        return [n for n in self._names_of(item) if (self.config.folder / n).exists()]

    def _names_of(self, item: Takedown) -> list[str]:
        names = [f"{item.slug}.{extension}" for extension in STEM_EXTENSIONS] + list(item.files)
        held = self.state.episodes.get(item.guid)
        if held:
            names += [held.get("file", ""), held.get("sidecar", "")]
        return list(dict.fromkeys(n for n in names if n))

    def _delete_episode(self, item: Takedown) -> list[str]:
        """The episode's files in the folder, and any download of it in progress."""
        names = self._names_of(item)
        held = self.state.episodes.pop(item.guid, None)
        deleted = folder.remove(self.config.folder, names)
        digests = {held["sha256"]} if held and held.get("sha256") else set()
        for marker in self.state.partial_dir.glob("*.part.slug") if self.state.partial_dir.exists() else []:
            if marker.read_text("utf-8").strip() == item.slug:
                digests.add(marker.name.split(".", 1)[0])
        for digest in digests:
            for path in self.state.partial_dir.glob(f"{digest}.part*"):
                path.unlink(missing_ok=True)
        return deleted

    # --- downloads ---------------------------------------------------------------------------

    def _downloads(self, episodes: list[Episode]) -> None:
        for episode in episodes:
            rendition = episode.pick(self.config.rendition)
            if rendition is None:
                self.outcome.failed.append((episode.slug, "aucune version avec empreinte sha256 dans le flux"))
                continue
            if self._holds(episode, rendition):
                continue
            try:
                self._takedowns()  # a takedown published during a long sync is honoured before the next file
                if episode.guid in self.withdrawn:
                    continue
                self._fetch(episode, rendition)
            except (IntegrityFailure, DiskFull, HTTPStatusError, FeedError) as error:
                self.outcome.failed.append((episode.slug, str(error)))
                self.say(f"échec : {episode.slug} : {error}")
            except LinkDown as error:
                self.link_down = True
                self.outcome.failed.append((episode.slug, str(error)))
                self.say(f"liaison perdue : {error} ; la suite au prochain passage")
                return
        self._takedowns()

    def _holds(self, episode: Episode, rendition: Rendition) -> bool:
        held = self.state.episodes.get(episode.guid)
        return bool(held and held.get("sha256") == rendition.sha256
                    and (self.config.folder / held.get("file", "")).is_file())

    def _fetch(self, episode: Episode, rendition: Rendition) -> None:
        name = folder.audio_name(episode, rendition)
        chapters = self._chapters(episode)
        if folder.holds(self.config.folder / name, rendition.size, rendition.sha256):
            self.say(f"déjà dans le dossier : {name} (sha256 vérifié, rien à télécharger)")
        else:
            self._download(episode, rendition, name)
        for leftover in self.state.partial_dir.glob(f"{rendition.sha256}.part.*"):
            leftover.unlink(missing_ok=True)
        sidecar = folder.write_sidecar(self.config.folder, episode, rendition, name, chapters)
        before = self.state.episodes.get(episode.guid)
        if before and before.get("file") not in (None, name):
            folder.remove(self.config.folder, [before["file"]])
        self.state.episodes[episode.guid] = {
            "slug": episode.slug, "file": name, "sidecar": sidecar, "sha256": rendition.sha256, "size": rendition.size,
            "rendition": rendition.role, "title": episode.title, "duration": episode.duration,
            "published": _iso(episode.published), "installed_at": _iso(self.now()),
        }
        self.state.save()
        self._playlists()
        self.outcome.installed.append(episode.slug)
        self.say(f"installé : {name} (sha256 vérifié)")
        self._hook(self.config.on_install, "installation", {
            "KUMA_FILE": str(self.config.folder / name), "KUMA_SIDECAR": str(self.config.folder / sidecar),
            "KUMA_SLUG": episode.slug, "KUMA_TITLE": episode.title, "KUMA_FOLDER": str(self.config.folder)})

    def _hook(self, command: str | None, what: str, env: dict[str, str]) -> bool:
        """Run the station's command for this event (e.g. delete the copy its playout system imported)."""
        if not command:
            return True
        try:
            done = subprocess.run(command, shell=True, env={**os.environ, **env}, timeout=HOOK_TIMEOUT,
                                  capture_output=True, text=True)
        except subprocess.TimeoutExpired:
            problem = f"commande de {what} trop longue (> {HOOK_TIMEOUT} s) pour {env['KUMA_SLUG']}"
        else:
            if done.returncode == 0:
                return True
            detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"code {done.returncode}"]
            problem = f"commande de {what} en échec pour {env['KUMA_SLUG']} : {detail[0]}"
        self.outcome.problems.append(problem)
        self.say(problem)
        return False

    def _download(self, episode: Episode, rendition: Rendition, name: str) -> None:
        partial = self.state.partial_dir / f"{rendition.sha256}.part"
        self.state.partial_dir.mkdir(parents=True, exist_ok=True)
        self._check_space(partial, rendition)
        (self.state.partial_dir / f"{rendition.sha256}.part.slug").write_text(episode.slug, encoding="utf-8")
        self.say(f"téléchargement : {episode.slug} ({rendition.role}, {rendition.size / 1e6:.1f} Mo)")
        report = (lambda have, size: self.progress(episode.slug, have, size)) if self.progress else None
        self.link.download(rendition.url, partial, size=rendition.size, sha256=rendition.sha256, progress=report)
        folder.install(partial, self.config.folder, name)

    def _chapters(self, episode: Episode) -> list | None:
        if not episode.chapters_url:
            return None
        fetched = self.link.document(episode.chapters_url)
        try:
            return list(json.loads(fetched.body or b"{}").get("chapters", []))
        except (ValueError, AttributeError):
            raise FeedError(f"chapitres illisibles pour {episode.slug}") from None

    def _check_space(self, partial: Path, rendition: Rendition) -> None:
        have = partial.stat().st_size if partial.exists() else 0
        free = shutil.disk_usage(partial.parent).free
        if free < rendition.size - have + DISK_MARGIN:
            raise DiskFull(f"place insuffisante : {rendition.size / 1e6:.0f} Mo à recevoir, "
                           f"{free / 1e6:.0f} Mo libres ({partial.parent})")

    # --- keeping the folder tidy -------------------------------------------------------------

    def _rotate(self, episodes: list[Episode]) -> None:
        if not self.config.keep:
            return  # an episode off the feed but not withdrawn (awaiting review) stays
        wanted = {e.guid for e in episodes}
        for guid in [g for g in self.state.episodes if g not in wanted]:
            held = self.state.episodes.pop(guid)
            folder.remove(self.config.folder, [held.get("file", ""), held.get("sidecar", "")])
            self.outcome.rotated.append(held.get("slug", guid))
        if self.outcome.rotated:
            self.state.save()
            self._playlists()

    def _drop_stale_partials(self, episodes: list[Episode]) -> None:
        wanted = {r.sha256 for e in episodes for r in e.renditions if r.sha256}
        for path in self.state.partial_dir.glob("*.part*") if self.state.partial_dir.exists() else []:
            if path.name.split(".", 1)[0] not in wanted:
                path.unlink(missing_ok=True)

    def _playlists(self) -> None:
        folder.write_playlists(self.config.folder, list(self.state.episodes.values()))

    # --- reporting ---------------------------------------------------------------------------

    def _finish(self) -> None:
        self.outcome.finished = self.now()
        self.outcome.received_bytes = self.link.received
        self.state.last_sync = self.outcome.summary()
        self.state.save()

    def _report(self) -> None:
        self._read_playout_log()
        if self.config.receipt:
            self.outcome.receipt = self._send_receipt()
        self.state.last_sync = self.outcome.summary()
        self.state.save()

    def _send_receipt(self) -> str:
        if self.link_down:  # it just failed through every retry: the receipt waits for the next sync
            return "non envoyé : liaison perdue (au prochain passage)"
        try:
            answer = self.link.post_json(self.config.receipt_url, receipt(self.state, self.outcome, self.now()))
        except StationError as error:
            return f"non envoyé : {error}"
        self.state.aired_pending = []
        self.state.last_receipt = {"at": _iso(self.now()), "answer": answer}
        pending = answer.get("takedowns_pending") or []
        return "envoyé" + (f" (retraits attendus : {', '.join(pending)})" if pending else "")

    def _read_playout_log(self) -> None:
        log = self.config.playout_log
        if log is None or not log.is_file():
            return
        info = log.stat()
        position = self.state.log_position
        offset = position.get("offset", 0) if position.get("inode") == info.st_ino and info.st_size >= position.get("offset", 0) else 0
        names = {h["file"]: (guid, h["slug"]) for guid, h in self.state.episodes.items()}
        names |= {h["slug"]: (guid, h["slug"]) for guid, h in self.state.episodes.items()}
        with open(log, "rb") as handle:
            handle.seek(offset)
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break  # a line still being written: read it next time
                offset += len(raw)
                line = raw.decode("utf-8", "replace")
                when = TIMESTAMP.search(line)
                found = next((v for k, v in names.items() if k in line), None)
                if when and found:
                    at = f"{when.group(1)}T{when.group(2)}{':00' if len(when.group(2)) == 5 else ''}Z"
                    self.state.aired_pending.append({"guid": found[0], "slug": found[1], "at": at})
        self.state.aired_pending = self.state.aired_pending[-AIRED_KEPT:]
        self.state.log_position = {"inode": info.st_ino, "offset": offset}


def receipt(state: State, outcome: Outcome, moment: datetime) -> dict:
    return {
        "client": CLIENT, "synced_at": _iso(moment),
        "held": [{"guid": guid, "slug": h["slug"], "sha256": h["sha256"], "file": h["file"], "size": h["size"]}
                 for guid, h in sorted(state.episodes.items())],
        "takedowns": [{"guid": guid, "slug": t["slug"], "listed_at": t["listed_at"], "executed_at": t["executed_at"],
                       "files_deleted": t["files_deleted"][:50]} for guid, t in sorted(state.takedowns.items())
                      if not t.get("hook_pending")],  # not done until the playout system's copy is gone too
        "aired": state.aired_pending,
        "problems": [redact(p)[:300] for p in [f"{s} : {r}" for s, r in outcome.failed] + outcome.problems][:50],
    }


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
