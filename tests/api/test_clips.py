"""Audio clips: anonymized rendition only (original for admins), Range, ETag, 304, MP3 that decodes."""
from __future__ import annotations

from archive.audio import probe


def test_clip_is_an_mp3_of_the_asked_span(client, keys, indexed, tmp_path):
    public_id = indexed(text="un extrait", seconds=4.0)
    response = client.get(f"/api/testimonies/{public_id}/clip", params={"start": 1.0, "end": 2.5},
                          headers=keys["advocate"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["accept-ranges"] == "bytes"
    path = tmp_path / "clip.mp3"
    path.write_bytes(response.content)
    info = probe(path)
    assert info.format == "mp3" and abs(info.duration - 1.5) < 0.1
    assert not info.tags  # nothing of the source's metadata


def test_range_etag_and_conditional_get(client, keys, indexed):
    public_id = indexed(text="un extrait", seconds=4.0)
    url, headers = f"/api/testimonies/{public_id}/clip?start=0&end=3", keys["advocate"]
    full = client.get(url, headers=headers)
    etag, size = full.headers["etag"], len(full.content)
    part = client.get(url, headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{size}"
    assert part.content == full.content[100:200]
    tail = client.get(url, headers={**headers, "Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == full.content[-50:]
    assert client.get(url, headers={**headers, "Range": f"bytes={size + 10}-"}).status_code == 416
    again = client.get(url, headers=headers)
    assert again.headers["etag"] == etag and again.content == full.content  # same bytes: resumable
    not_modified = client.get(url, headers={**headers, "If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert client.get(url, headers={**headers, "If-None-Match": '"other"'}).status_code == 200
    since = client.get(url, headers={**headers, "If-Modified-Since": full.headers["last-modified"]})
    assert since.status_code == 304
    other = client.get(f"/api/testimonies/{public_id}/clip?start=0&end=2", headers=headers)
    assert other.headers["etag"] != etag


def test_original_voice_only_for_admins(client, keys, indexed):
    public_id = indexed(text="voix", seconds=3.0)
    url = f"/api/testimonies/{public_id}/clip?start=0&end=1&original=true"
    assert client.get(url, headers=keys["advocate"]).status_code == 403
    assert client.get(url, headers=keys["producer"]).status_code == 403
    admin = client.get(url, headers=keys["admin"])
    assert admin.status_code == 200 and admin.headers["content-type"] == "audio/mpeg"


def test_clip_bounds(client, keys, indexed):
    public_id = indexed(text="bornes", seconds=3.0)
    base, headers = f"/api/testimonies/{public_id}/clip", keys["advocate"]
    assert client.get(base, params={"start": 2, "end": 1}, headers=headers).status_code == 422
    assert client.get(base, params={"start": 5, "end": 6}, headers=headers).status_code == 422
    assert client.get(base, params={"start": -1, "end": 1}, headers=headers).status_code == 422
    clamped = client.get(base, params={"start": 2, "end": 3600}, headers=headers)
    assert clamped.status_code == 200  # end clamped to the recording's duration
    assert client.get(base, params={"start": 0, "end": 1}, headers=keys["radio"]).status_code == 403


def test_no_clip_without_a_rendition_for_producers(client, keys, indexed):
    public_id = indexed(text="pas encore anonymisé", approved=False)
    response = client.get(f"/api/testimonies/{public_id}/clip", params={"start": 0, "end": 1},
                          headers=keys["producer"])
    assert response.status_code == 403 and response.json()["error"] == "review_required"
    assert client.get(f"/api/testimonies/{public_id}/clip", params={"start": 0, "end": 1},
                      headers=keys["advocate"]).status_code == 404
