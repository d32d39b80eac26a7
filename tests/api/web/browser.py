"""A real browser against a real server: ``kuma serve``'s app under uvicorn on a free loopback port,
driven by Debian's Chromium through selenium. Skips, saying why, where Chromium is absent."""
from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[3] / "build" / "screenshots"  # docs/web.md shows copies


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """uvicorn serving ``create_app`` over the test archive, in a thread, until ``stop()``."""

    def __init__(self, archive):
        import uvicorn

        from api.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = archive.settings.model_copy(update={"base_url": self.url})
        config = uvicorn.Config(create_app(settings, archive=archive), host="127.0.0.1", port=self.port,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def chromium():
    """A headless Chromium through chromedriver, or skip with the reason."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("Chromium is not installed (apt install chromium chromium-driver): the browser tests need it")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,768",
                 "--lang=fr-FR", "--autoplay-policy=no-user-gesture-required"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def submit(browser, button) -> None:
    """Click a form's button and wait for the page it leads to (selenium does not wait for it)."""
    from selenium.webdriver.support.ui import WebDriverWait

    button.click()
    WebDriverWait(browser, 15).until(_left_the_page(button))
    WebDriverWait(browser, 15).until(lambda driver: driver.execute_script("return document.readyState") == "complete")


def _left_the_page(element):
    """selenium's ``staleness_of``, also when Chromium, caught mid-navigation, answers that the node
    "does not belong to the document" instead of calling it stale (seen once in CI)."""
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    def gone(_driver) -> bool:
        try:
            element.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
        return False

    return gone


def screenshot(browser, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    browser.save_screenshot(str(path))
    return path
