"""kuma-station: keeps a partner radio's copy of the programme right over a bad link (issue 19).

Standard library only, so that it runs on a Raspberry Pi's own Python 3.11 without the rest of
Kuma's dependencies (docs/station.md). Nothing here imports the archive: it talks to it over HTTP.

- :mod:`station.config`: the station's settings file (feed URL with its token, mode 0600);
- :mod:`station.link`: HTTP over a bad link (conditional GET, Range resume, retries, bandwidth cap);
- :mod:`station.feed`: the radio feed and its RFC 5005 archive pages, takedown.json;
- :mod:`station.folder`: the watch folder (stable names, sidecars, M3U/XSPF playlists);
- :mod:`station.state`: what the station holds and did, kept between runs (:mod:`station.files`: atomic writes);
- :mod:`station.sync`: one sync, in order; :mod:`station.cli`: ``kuma-station``.
"""
__version__ = "0.1.0"
CLIENT = f"kuma-station/{__version__}"
