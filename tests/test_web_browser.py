"""The web app in a real browser: Debian's chromium driven by Selenium against
`make_handouts serve`, headless. A pump patient with one mistake, the error, the fix,
the PDF downloaded; the English switch; axe-core on the form and its error state."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.conftest import normalise

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
TODAY = dt.date.today()
NAME = "Odile Browsertest"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`make_handouts serve` on a free loopback port; its log is checked afterwards."""
    folder = tmp_path_factory.mktemp("server")
    log = folder / "stderr.log"
    port = free_port()
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "handouts", "serve", "--port", str(port), "--workers", "1"],
            cwd=folder, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"the server did not start: {log.read_text()}")
            time.sleep(0.2)
    yield url, log
    process.terminate()
    process.wait(30)
    assert sorted(p.name for p in folder.iterdir()) == ["stderr.log"]  # nothing written


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(tmp_path_factory, downloads):
    assert CHROMIUM and CHROMEDRIVER, "setup.sh installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--window-size=1100,1400",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def fill(browser, field: str, value: str) -> None:
    element = browser.find_element(By.ID, f"field-{field}")
    element.clear()
    element.send_keys(value)


def set_date(browser, field: str, value: dt.date) -> None:
    """Date inputs take typed digits in the browser's locale order; set the value the
    way the picker does instead."""
    browser.execute_script("arguments[0].value = arguments[1]",
                           browser.find_element(By.ID, f"field-{field}"), value.isoformat())


def serious(browser) -> list[str]:
    axe = Axe(browser)
    axe.inject()
    results = axe.run()
    return [f"{v['id']}: {v['help']}: {[n['html'] for n in v['nodes']]}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")]


def submit(browser) -> None:
    browser.find_element(By.CSS_SELECTOR, "button.primary").click()
    WebDriverWait(browser, 30).until(lambda b: b.execute_script(
        "return document.readyState") == "complete")


def test_pump_patient_with_one_mistake_then_fixed_then_downloaded(server, browser, downloads):
    url, log = server
    browser.get(url)
    assert serious(browser) == []
    fill(browser, "name", NAME)
    fill(browser, "id", "BT-1")
    browser.find_element(By.ID, "field-variant-intrathecal").click()
    assert not browser.find_element(By.ID, "group-pump").get_attribute("hidden")
    assert browser.find_element(By.ID, "group-oral_dose").get_attribute("hidden")
    fill(browser, "prescriber", "Dr Selenium")
    fill(browser, "daily_dose_ug", "250")
    Select(browser.find_element(By.ID, "field-concentration_ug_per_ml")).select_by_value("500")
    Select(browser.find_element(By.ID, "field-reservoir_ml")).select_by_value("20")
    set_date(browser, "next_refill", TODAY + dt.timedelta(days=30))
    set_date(browser, "alarm_date", TODAY + dt.timedelta(days=33))
    submit(browser)  # the pump model is missing

    summary = browser.find_element(By.ID, "error-summary")
    assert browser.switch_to.active_element == summary
    assert summary.find_element(By.TAG_NAME, "li").text == (
        "Modèle de pompe : obligatoire (par exemple SynchroMed II)")
    assert normalise(browser.find_element(By.ID, "pump_model-error-1").text) == (
        "Erreur : obligatoire (par exemple SynchroMed II)")
    assert browser.find_element(By.ID, "field-name").get_attribute("value") == NAME
    assert serious(browser) == []

    summary.send_keys(Keys.TAB)  # keyboard only: to the link, then to the field
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda b: b.current_url.endswith("#field-pump_model"))
    model = browser.find_element(By.ID, "field-pump_model")
    model.click()
    model.send_keys("SynchroMed II")
    submit(browser)

    assert browser.find_element(By.TAG_NAME, "h1").text == "Aperçu des pages personnelles"
    assert len(browser.find_elements(By.CSS_SELECTOR, ".pages img")) == 3
    browser.find_element(By.XPATH, "//button[text()='BT-1-baclofen-intrathecal-leaflet-fr.pdf']"
                         ).click()
    pdf = downloads / "BT-1-baclofen-intrathecal-leaflet-fr.pdf"
    WebDriverWait(browser, 30).until(lambda _: pdf.exists() and pdf.stat().st_size > 0)
    text = normalise(subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], check=True,
                                    capture_output=True, text=True).stdout)
    assert NAME in text and "250 µg/jour" in text and "SynchroMed II" in text
    assert NAME not in log.read_text() and "Selenium" not in log.read_text()
    assert "POST / 422" in log.read_text() and "POST /download 200" in log.read_text()


def test_switch_to_english_keeps_what_was_typed(server, browser):
    url, _ = server
    browser.get(url)
    fill(browser, "name", NAME)
    browser.find_element(By.CSS_SELECTOR, "button.switch").click()
    # the page is replaced while we look: an element found before that goes stale
    WebDriverWait(browser, 10, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Baclofen documents for one patient"
    assert browser.find_element(By.CSS_SELECTOR, "label[for=field-daily_dose_mg]").text == (
        "Daily dose (mg/day)")
    assert browser.find_element(By.ID, "field-name").get_attribute("value") == NAME
    submit(browser)
    assert browser.find_element(By.ID, "error-summary").find_element(
        By.TAG_NAME, "h2").text.startswith("The form has")
    assert serious(browser) == []
