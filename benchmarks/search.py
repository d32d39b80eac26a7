"""Search benchmark: API (in-process) vs raw FTS5 on the same synthetic archive, and load.

    .venv/bin/python benchmarks/search.py            # 20,000 testimonies / 1,000,000 segments
    .venv/bin/python benchmarks/search.py --scale 0.05 --queries 300 --load-seconds 5

Builds a synthetic SQLite archive with bulk SQL (not the ingest pipeline): testimonies, consent,
transcript rows, approved renditions, and the search index (raw + redacted French text). Then:
- p50/p95 of mixed queries through ``GET /api/search`` as an advocate (TestClient, in-process,
  consent re-checked, count and audit written as in production) vs the raw FTS5 query (same
  MATCH, top 10 by bm25, then snippets of those 10) on a plain sqlite3 connection; the ratio. Targets: p95 <= 50 ms, ratio <= 2.
  A second reference sorts by ``bm25()`` in SQLite's sorter (top-N) instead of FTS5's ``ORDER BY rank``
  (a full sort): the API ranks that way, so that ratio is the API's own overhead.
- requests/s of the search endpoint under 20 concurrent connections: one uvicorn worker in its own
  process on 127.0.0.1 (the load generator must not share the server's interpreter lock).
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import socket
import subprocess
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.consent import rendition_fingerprint  # noqa: E402
from archive.db import Archive  # noqa: E402
from archive.search import parse_query  # noqa: E402
from archive.settings import Settings  # noqa: E402

CONTENT = """refoulé expulsé frontière désert police camion passeur argent famille village retour prison
détention gendarmes militaires papiers passeport visa travail chantier Libye Algérie Tamanrasset Agadez
Gao Bamako Kayes Niger Maroc Espagne bateau mer pirogue garde-côtes soif faim chaleur sable marche nuit
téléphone dette frère mère père enfants femme malade hôpital blessure violence coups vol racket
rançon esclavage patron salaire mois années avion aéroport association accueil réinsertion projet
commerce champ récolte école honte silence espoir rêve Europe France Italie Tripoli Oran Maghnia
Tinzaouatene Arlit Assamaka bus gare centre camp tente couverture eau pain riz nourriture argent
douane contrôle frontalier arrestation rafle expulsion refoulement rapatriement convoi caravane
""".split()
STOP = "je nous ils elle on de la le les des du un une et à en dans pour avec sans par sur mais puis très".split()
NAMES = ["Moussa", "Aminata", "Oumar", "Fatoumata", "Ibrahim", "Mariam", "Seydou", "Kadiatou"]
THEMES = ["expulsion", "refoulement", "détention", "violences", "santé", "retour", "travail", "voyage-désert"]
DATE = "2024-01-01 00:00:00.000000"


def tail_words(rng: random.Random, n: int) -> list[str]:
    syllables = ["ka", "mo", "bi", "to", "sa", "ni", "dou", "ba", "lé", "fi", "go", "ré", "ma", "ti", "zou"]
    return list({"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(n)})


def segment_text(rng: random.Random, content: list[str], weights: list[float], tail: list[str]) -> tuple[str, str]:
    words, redacted = [], []
    for _ in range(rng.randint(8, 20)):
        roll = rng.random()
        if roll < 0.45:
            word = rng.choice(STOP)
        elif roll < 0.57:  # topic words: the most frequent is in ~8% of segments
            word = rng.choices(content, weights)[0]
        elif roll < 0.98:  # the long tail of spoken vocabulary
            word = rng.choice(tail)
        else:
            word = rng.choice(NAMES)
        words.append(word)
        redacted.append("[NOM]" if word in NAMES else word)
    return " ".join(words), " ".join(redacted)


def build(db: Path, testimonies: int, segments_per: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    content = CONTENT
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(content))]
    tail = tail_words(rng, 20_000)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("DROP TRIGGER search_segments_ai")
    t0 = time.perf_counter()
    batch_t, batch_c, batch_th, batch_tr, batch_r, batch_a = [], [], [], [], [], []
    advocacy_ok = {}
    for i in range(1, testimonies + 1):
        advocacy = advocacy_ok[i] = rng.random() < 0.8
        pseudonym = f"Témoin {i}"
        batch_t.append((i, f"T-{i:06d}", "k" * 64, f"{i:064x}", f"synthetic-{i}.wav", pseudonym,
                        f"20{rng.randint(18, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)} 10:00:00.000000",
                        "fr", rng.choice(["DZ", "LY", "MA", "NE", "ES", "FR"]), 600.0, "[]", DATE))
        batch_c.append((i, 1, True, advocacy, True, False, "pseudonym", "disguise", "bench", DATE))
        for theme in rng.sample(THEMES, 2):
            batch_th.append((i, theme))
        batch_tr.append((i, i, 1, "asr", "{}", DATE))
        fake = SimpleNamespace(consent=SimpleNamespace(version=1, identity="pseudonym", voice="disguise"),
                               sensitive_terms=[], muted_spans=[], pseudonym=pseudonym)
        fingerprint = rendition_fingerprint(fake, SimpleNamespace(id=i))
        batch_r.append((i, i, i, "approved", fingerprint, "[]", "[]", DATE))
        batch_a.append((i, i, i, True, True, advocacy, DATE))
    con.executemany("INSERT INTO testimonies (id, public_id, internal_key, source_sha256, source_name, pseudonym, "
                    "recorded_at, language, expelled_from, duration, muted_spans, created_at) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", batch_t)
    con.executemany("INSERT INTO consent_records (testimony_id, version, archive, advocacy, broadcast, online, "
                    "identity, voice, recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?,?,?,?)", batch_c)
    con.executemany("INSERT INTO testimony_themes (testimony_id, theme_slug) VALUES (?,?)", batch_th)
    con.executemany("INSERT INTO transcripts (id, testimony_id, version, source, options, created_at) "
                    "VALUES (?,?,?,?,?,?)", batch_tr)
    con.executemany("INSERT INTO renditions (id, testimony_id, transcript_id, status, fingerprint, "
                    "redacted_segments, redactions, created_at) VALUES (?,?,?,?,?,?,?,?)", batch_r)
    con.executemany("INSERT INTO search_access (testimony_id, transcript_id, rendition_id, archive_ok, process_ok, "
                    "advocacy_ok, indexed_at) VALUES (?,?,?,?,?,?,?)", batch_a)
    rows = []
    for i in range(1, testimonies + 1):
        for idx in range(segments_per):
            raw, redacted = segment_text(rng, content, weights, tail)
            rows.append((i, idx, idx * 4.0, idx * 4.0 + 4.0, raw, redacted if advocacy_ok[i] else ""))
        if len(rows) >= 100_000:
            con.executemany("INSERT INTO search_segments (testimony_id, idx, start, \"end\", text, redacted) "
                            "VALUES (?,?,?,?,?,?)", rows)
            rows.clear()
            print(f"  … {i:,} témoignages", end="\r", flush=True)
    if rows:
        con.executemany("INSERT INTO search_segments (testimony_id, idx, start, \"end\", text, redacted) "
                        "VALUES (?,?,?,?,?,?)", rows)
    con.commit()
    t1 = time.perf_counter()
    con.execute("INSERT INTO search_fts(search_fts) VALUES ('rebuild')")
    con.execute("INSERT INTO search_fts(search_fts) VALUES ('optimize')")
    con.execute(_migration().FTS_TRIGGERS["search_segments_ai"])
    con.commit()
    con.execute("ANALYZE")
    con.close()
    print(f"  données : {t1 - t0:.1f} s, index FTS5 : {time.perf_counter() - t1:.1f} s")


def _migration():
    path = Path(__file__).resolve().parents[1] / "archive/migrations/versions/0006_api_keys_and_search_index.py"
    spec = importlib.util.spec_from_file_location("m0006", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_queries(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    content = [w for w in CONTENT if "-" not in w]
    kinds = [
        lambda: rng.choice(content),  # one word
        lambda: rng.choice(content).lower().replace("é", "e").replace("è", "e"),  # typed without accents
        lambda: f"{rng.choice(content)} {rng.choice(content)}",  # two words (AND)
        lambda: f'"{rng.choice(STOP[:6])} {rng.choice(content)}"',  # phrase
        lambda: rng.choice(content)[:4] + "*",  # prefix
        lambda: f"{rng.choice(content)} OR {rng.choice(content)}",  # alternatives
    ]
    return [rng.choice(kinds)() for _ in range(n)]


def match_counts(db: Path, queries: list[str]) -> list[int]:
    con = sqlite3.connect(db)
    sql = "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?"
    counts = [con.execute(sql, (f"{{redacted}} : ({parse_query(q).fts5()})",)).fetchone()[0] for q in queries]
    con.close()
    return counts


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def time_api(settings: Settings, token: str, queries: list[str]) -> list[float]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    times = []
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        client.get("/api/search", params={"q": "désert"}, headers=headers)
        for query in queries:
            start = time.perf_counter()
            response = client.get("/api/search", params={"q": query}, headers=headers)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
    return times


RANKED = {
    "rank": "SELECT rowid, bm25(search_fts) FROM search_fts WHERE search_fts MATCH ? ORDER BY rank LIMIT 10",
    "bm25": "SELECT rowid, bm25(search_fts) AS score FROM search_fts WHERE search_fts MATCH ? ORDER BY score LIMIT 10",
}


def time_raw(db: Path, queries: list[str], order: str = "rank") -> list[float]:
    con = sqlite3.connect(db)
    times = []
    ranked = RANKED[order]
    snippets = ("SELECT rowid, snippet(search_fts, 1, '<mark>', '</mark>', '…', 24) FROM search_fts "
                "WHERE search_fts MATCH ? AND rowid IN ({})")
    for query in queries:
        match = f"{{redacted}} : ({parse_query(query).fts5()})"
        start = time.perf_counter()
        top = con.execute(ranked, (match,)).fetchall()
        if top:
            con.execute(snippets.format(",".join(str(r[0]) for r in top)), (match,)).fetchall()
        times.append((time.perf_counter() - start) * 1000)
    con.close()
    return times


def load(settings: Settings, token: str, queries: list[str], seconds: float, connections: int = 20) -> tuple[float, int]:
    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "KUMA_DATABASE_URL"}
    env.update(KUMA_HOME=str(settings.home), KUMA_SECRET_KEY=settings.secret_key)
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                              env=env, cwd=Path(__file__).resolve().parents[1])
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            if server.poll() is not None:
                raise SystemExit("le serveur uvicorn n'a pas démarré")
            time.sleep(0.1)

    async def worker(client: httpx.AsyncClient, deadline: float, counts: list[int], offset: int) -> None:
        i = offset
        while time.perf_counter() < deadline:
            response = await client.get("/api/search", params={"q": queries[i % len(queries)]})
            counts[0 if response.status_code == 200 else 1] += 1
            i += connections

    async def run() -> list[int]:
        counts = [0, 0]
        limits = httpx.Limits(max_connections=connections)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            deadline = time.perf_counter() + seconds
            await asyncio.gather(*(worker(client, deadline, counts, k) for k in range(connections)))
        return counts

    start = time.perf_counter()
    ok, failed = asyncio.run(run())
    elapsed = time.perf_counter() - start
    server.terminate()
    server.wait(timeout=30)
    return ok / elapsed, failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of 20,000 testimonies (50 segments each)")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--load-seconds", type=float, default=10.0)
    parser.add_argument("--home", type=Path, default=None, help="keep the archive here (default: a temp dir)")
    args = parser.parse_args()
    testimonies = max(10, int(20_000 * args.scale))
    with tempfile.TemporaryDirectory(prefix="kuma-bench-") as tmp:
        home = args.home or Path(tmp)
        settings = Settings(home=home, secret_key="bench")
        archive = Archive(settings)
        db = home / "kuma.db"
        print(f"Archive synthétique : {testimonies:,} témoignages × 50 segments = {testimonies * 50:,} segments")
        build(db, testimonies, 50)
        from api.deps import create_key

        with archive.session() as session:
            _key, token = create_key(session, "bench", "advocate", "bench")
        archive.dispose()
        queries = make_queries(args.queries)
        matches = match_counts(db, queries)
        print(f"Segments trouvés par requête : médiane {statistics.median(matches):,.0f}, "
              f"p95 {sorted(matches)[int(0.95 * (len(matches) - 1))]:,}, max {max(matches):,}")
        time_raw(db, queries)  # warm the page cache for both
        raw = time_raw(db, queries)
        raw_bm25 = time_raw(db, queries, "bm25")
        api = time_api(settings, token, queries)
        (raw50, raw95), (b50, b95), (api50, api95) = percentiles(raw), percentiles(raw_bm25), percentiles(api)
        print(f"\n{len(queries)} requêtes mixtes                 p50 (ms)   p95 (ms)")
        print(f"  FTS5 brut (sqlite3, ORDER BY rank)    {raw50:8.2f}   {raw95:8.2f}")
        print(f"  FTS5 brut (sqlite3, ORDER BY bm25())  {b50:8.2f}   {b95:8.2f}")
        print(f"  API /api/search                       {api50:8.2f}   {api95:8.2f}   (cible p95 <= 50 ms)")
        print(f"  ratio API / FTS5 (ORDER BY rank)      {api50 / raw50:8.2f}   {api95 / raw95:8.2f}   (cible <= 2)")
        print(f"  ratio API / FTS5 (ORDER BY bm25())    {api50 / b50:8.2f}   {api95 / b95:8.2f}")
        rate, failed = load(settings, token, queries, args.load_seconds)
        print(f"\nCharge : {rate:.0f} requêtes/s sur /api/search, 20 connexions, 1 processus uvicorn 127.0.0.1 "
              f"({args.load_seconds:.0f} s, {failed} échec(s))")


if __name__ == "__main__":
    main()
