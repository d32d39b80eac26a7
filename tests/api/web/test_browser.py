"""The web studio in a real browser (Chromium through selenium, against uvicorn): sign-in, CSRF."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from api import users
from tests.api.web.browser import LiveServer, chromium, screenshot, submit
from tests.api.web.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def server(archive):
    live = LiveServer(archive).start()
    yield live
    live.stop()


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def fill_sign_in(browser, name: str, password: str) -> None:
    browser.find_element(By.ID, "name").clear()
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.formulaire button[type=submit]"))


def test_sign_in_and_out_in_a_browser(server, browser, account):
    account("awa", "producer")
    browser.get(f"{server.url}/studio/")
    assert browser.current_url == f"{server.url}/studio/connexion?suite=/studio/"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=name]").text == "Nom d'utilisateur"
    screenshot(browser, "connexion")
    fill_sign_in(browser, "awa", PASSWORD)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Bonjour awa"
    cookie = browser.get_cookie("kuma_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert browser.execute_script("return document.cookie") == ""  # no script can read the session
    screenshot(browser, "accueil")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "header form button"))
    assert "/studio/connexion" in browser.current_url
    browser.get(f"{server.url}/studio/")
    assert "/studio/connexion" in browser.current_url


def test_a_form_without_its_csrf_token_is_refused_in_the_browser(server, browser, account):
    account("awa", "producer")
    browser.get(f"{server.url}/studio/connexion")
    browser.execute_script("document.querySelector('input[name=csrf]').remove()")
    fill_sign_in(browser, "awa", PASSWORD)
    assert "CSRF" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert browser.get_cookie("kuma_session") is None


def test_five_wrong_passwords_slow_down_the_sixth_in_the_browser(server, browser, account):
    account("awa", "producer")
    for _ in range(users.MAX_FAILURES):
        browser.get(f"{server.url}/studio/connexion")
        fill_sign_in(browser, "awa", "pas le bon mot de passe")
        assert users.WRONG in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    browser.get(f"{server.url}/studio/connexion")
    fill_sign_in(browser, "awa", PASSWORD)
    assert "trop de tentatives" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    assert browser.get_cookie("kuma_session") is None


def test_review_in_a_browser_play_seek_to_a_bleep_and_approve(server, browser, account, to_review):
    from selenium.webdriver.support.ui import WebDriverWait

    account("awa", "producer")
    browser.get(f"{server.url}/studio/connexion?suite=/studio/relecture/{to_review}")
    fill_sign_in(browser, "awa", PASSWORD)
    assert browser.find_element(By.TAG_NAME, "h1").text == f"Relecture de {to_review}"
    player = "document.getElementById('lecteur')"
    WebDriverWait(browser, 15).until(lambda d: d.execute_script(f"return {player}.readyState") >= 1)
    duration = browser.execute_script(f"return {player}.duration")
    assert duration == pytest.approx(12.0, abs=0.1)  # the whole rendition, decoded by the browser
    screenshot(browser, "relecture")
    buttons = browser.find_elements(By.CSS_SELECTOR, "button.ecouter")
    assert len(buttons) >= 4
    target = float(buttons[2].get_attribute("data-start"))
    buttons[2].send_keys("\n")  # keyboard: the buttons are real buttons
    WebDriverWait(browser, 15).until(lambda d: d.execute_script(f"return {player}.currentTime") >= target)
    position = browser.execute_script(f"return {player}.currentTime")
    assert target <= position < target + 3.0  # the player went to the bleep (and plays on)
    boxes = browser.find_elements(By.NAME, "accept_unintelligible")
    if boxes:  # the gate could not run without a model here: the reviewer accepts explicitly
        boxes[0].click()
    submit(browser, browser.find_element(By.XPATH, "//button[text()='Approuver la version anonymisée']"))
    assert "approuvée" in browser.find_element(By.CSS_SELECTOR, "[role=status]").text
    browser.get(f"{server.url}/studio/temoignages/{to_review}")
    assert browser.find_elements(By.CSS_SELECTOR, "mark")  # the redactions, highlighted
    screenshot(browser, "temoignage")


def test_an_advocate_searches_a_theme_plays_a_clip_and_cannot_open_the_rest(server, browser, account, indexed):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    from tests.conftest import FULL_CONSENT

    shown = indexed(text="nous avons été refoulés à la frontière algérienne", themes=["expulsion"])
    hidden = indexed(consent={**FULL_CONSENT, "advocacy": False}, text="refoulés eux aussi", themes=["expulsion"])
    account("maitre", "advocate")
    browser.get(f"{server.url}/studio/connexion?suite=/studio/recherche")
    fill_sign_in(browser, "maitre", PASSWORD)
    browser.find_element(By.ID, "q").send_keys("refoulés")
    Select(browser.find_element(By.ID, "theme")).select_by_value("expulsion")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form.recherche button"))
    results = browser.find_elements(By.CSS_SELECTOR, "ol.resultats li")
    assert len(results) == 1 and shown in results[0].text and hidden not in browser.page_source
    assert results[0].find_element(By.TAG_NAME, "mark").text == "refoulés"
    screenshot(browser, "recherche")
    clip = results[0].find_element(By.TAG_NAME, "audio")
    browser.execute_script("arguments[0].play()", clip)
    WebDriverWait(browser, 15).until(lambda d: d.execute_script("return arguments[0].readyState", clip) >= 1)
    assert browser.execute_script("return arguments[0].duration", clip) > 0  # the MP3 clip, decoded
    shared = browser.current_url
    assert "q=refoul" in shared and "theme=expulsion" in shared  # a link to share
    browser.get(f"{server.url}/studio/extrait/{hidden}?debut=0&fin=2")
    assert "inconnu" in browser.find_element(By.TAG_NAME, "body").text  # 404: as if it did not exist


def test_a_text_with_a_script_is_shown_as_text_in_a_browser(server, browser, account, indexed):
    indexed(text="il a écrit <script>document.title='piraté'</script> sur le mur du camp")
    account("maitre", "advocate")
    browser.get(f"{server.url}/studio/connexion?suite=/studio/recherche?q=mur")
    fill_sign_in(browser, "maitre", PASSWORD)
    snippet = browser.find_element(By.CSS_SELECTOR, ".extrait").text
    assert "document.title='piraté'" in snippet  # shown as text (PostgreSQL's snippet drops the tags themselves)
    assert browser.title != "piraté"  # not run


def test_the_producer_pages_in_a_browser(server, browser, account, seed_testimony):
    seed_testimony()
    account("awa", "producer")
    browser.get(f"{server.url}/studio/connexion?suite=/studio/emissions")
    fill_sign_in(browser, "awa", PASSWORD)
    assert browser.find_element(By.TAG_NAME, "h1").text == "Émissions"
    screenshot(browser, "emissions")
    browser.get(f"{server.url}/studio/radios")
    browser.find_element(By.ID, "name").send_keys("Radio Kayira Ségou")
    submit(browser, browser.find_element(By.XPATH, "//button[starts-with(text(), 'Ajouter')]"))
    assert "/radio/" in browser.find_element(By.CSS_SELECTOR, "code.jeton").text
    screenshot(browser, "radios")
    browser.get(f"{server.url}/studio/radios/radio-kayira-segou")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Radio Kayira Ségou")
    assert "jamais reçu" in browser.find_element(By.TAG_NAME, "main").text
    screenshot(browser, "radio")


def test_intake_in_a_browser_upload_with_the_consent_form_and_see_it_processed(archive, tiny_model, browser, account,
                                                                               make_audio):
    """The whole pass behind the upload, with a tiny random-weight Whisper (what it hears is noise; the
    path is real): ingest, cleanup, transcription, anonymization, then it waits for review."""
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.transcripts.conftest import RANDOM_MODEL_LIMITS

    archive.settings = archive.settings.model_copy(update={
        "whisper_model": str(tiny_model), "whisper_device": "cpu", "whisper_cpu_threads": 1, **RANDOM_MODEL_LIMITS})
    recording = make_audio("aeroport.wav", seconds=4, seed=3)
    live = LiveServer(archive).start()
    try:
        account("awa", "producer")
        browser.get(f"{live.url}/studio/connexion?suite=/studio/depot")
        fill_sign_in(browser, "awa", PASSWORD)
        browser.find_element(By.ID, "files").send_keys(str(recording))
        for scope in ("archive", "advocacy"):
            browser.find_element(By.CSS_SELECTOR, f"input[name={scope}]").click()
        browser.find_element(By.ID, "pseudonym").send_keys("Bakary")
        browser.find_element(By.ID, "terms").send_keys("lieu: Kayes")
        browser.find_element(By.CSS_SELECTOR, "input[name=themes][value=expulsion]").click()
        screenshot(browser, "depot")
        submit(browser, browser.find_element(By.CSS_SELECTOR, "form.depot button[type=submit]"))
        assert browser.current_url.endswith("/studio/suivi")
        WebDriverWait(browser, 240, poll_frequency=1).until(
            lambda d: "Terminé" in d.find_element(By.CSS_SELECTOR, "[role=status]").text)  # the page reloads itself
        rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert any(row.startswith("ingest T-000001 done") for row in rows), rows
        assert any(row.startswith("anonymize T-000001 done") for row in rows), rows
        screenshot(browser, "suivi")
        browser.get(f"{live.url}/studio/relecture")
        assert "T-000001" in browser.find_element(By.TAG_NAME, "main").text  # waiting for its review
    finally:
        live.stop()
