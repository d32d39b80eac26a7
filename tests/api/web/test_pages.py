"""Every page of the studio: labels on every input, light enough for a phone on a poor link."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

PAGES = ["/studio/", "/studio/depot", "/studio/relecture", "/studio/relecture/{id}", "/studio/temoignages/{id}",
         "/studio/recherche?q=Kayes", "/studio/emissions", "/studio/radios", "/studio/suivi"]


class Form(HTMLParser):
    """The page's form fields and how each is labelled."""

    def __init__(self):
        super().__init__()
        self.fields: list[dict] = []
        self.labels_for: set[str] = set()
        self.open_labels = 0
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if attrs.get("for"):
                self.labels_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            self.fields.append({**attrs, "tag": tag, "wrapped": self.open_labels > 0})
        elif tag == "script":
            self.scripts.append(attrs.get("src", "inline"))

    def handle_endtag(self, tag):
        if tag == "label":
            self.open_labels -= 1


@pytest.mark.parametrize("path", PAGES)
def test_every_field_has_a_label_and_the_page_is_light(producer, to_review, path):
    response = producer.get(path.format(id=to_review))
    assert response.status_code == 200, path
    form = Form()
    form.feed(response.text)
    unlabelled = [f for f in form.fields if not f["wrapped"] and f.get("id") not in form.labels_for
                  and not f.get("aria-label")]
    assert not unlabelled, unlabelled
    assert len(response.content) < 40_000, len(response.content)  # a few seconds on 3G, with the stylesheet
    assert all(src.startswith("/studio/static/") for src in form.scripts)  # nothing from a CDN, no inline script


def test_the_stylesheet_and_script_are_small_and_local(producer):
    css = producer.get("/studio/static/kuma.css")
    js = producer.get("/studio/static/relecture.js")
    assert css.status_code == js.status_code == 200
    assert len(css.content) < 4_000 and len(js.content) < 1_000
    assert "http" not in css.text and "http" not in js.text
