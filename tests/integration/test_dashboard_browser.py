"""The dashboard in a real headless Chromium: log in, stop a job with the button, watch a bar fill.

Debian's chromium and chromium-driver drive it (``.ci/run`` installs them); nothing is
downloaded. Set ``UPDATE_SCREENSHOTS=1`` to also write the README's ``docs/dashboard.png``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.integration.conftest import OPERATOR_TOKEN
from tests.support.client import ApiClient
from tests.support.factories import customer, customers

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WAIT_SECONDS = 30


@pytest.fixture
def browser():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are missing: .ci/run installs them")
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install -y chromium "
                    "chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1400,820", "--hide-scrollbars"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def wait_for(driver, condition, what: str):
    """Wait until ``condition(driver)`` is truthy, re-reading the page (it is redrawn live)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_SECONDS, poll_frequency=0.1,
                         ignored_exceptions=(NoSuchElementException,
                                             StaleElementReferenceException)
                         ).until(condition, message=what)


def row(driver, job_id: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'tr[data-job-id="{job_id}"]')


def bar_percent(driver, job_id: str) -> int:
    from selenium.webdriver.common.by import By

    return int(row(driver, job_id).find_element(By.TAG_NAME, "progress").get_attribute("value"))


def press_stop(driver, job_id: str, label: str) -> bool:
    """Click the job's Stop button once it reads ``label``; True when clicked."""
    from selenium.webdriver.common.by import By

    button = row(driver, job_id).find_element(By.CSS_SELECTOR, "button.stop")
    if button.text != label:
        return False
    button.click()
    return True


def tenant_client(live_service, make_tenant, name: str) -> ApiClient:
    tenant_id, pair = make_tenant(name)
    return ApiClient(live_service.base_url, pair.api_key, pair.secret_key, tenant_id)


def test_an_operator_stops_one_job_and_watches_another_complete(
        browser, live_service, make_tenant, paused_workers, db, tmp_path):
    from selenium.webdriver.common.by import By

    acme = tenant_client(live_service, make_tenant, "acme-retail")
    globex = tenant_client(live_service, make_tenant, "globex-loyalty")
    held = globex.submit(customers(400, prefix="held"))  # workers paused: it stays queued

    browser.get(f"{live_service.base_url}/dashboard")
    assert browser.current_url.endswith("/dashboard/login")
    browser.find_element(By.ID, "token").send_keys(OPERATOR_TOKEN)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(browser, lambda d: row(d, held).get_attribute("data-status") == "queued",
             "the queued job to be listed")
    assert "globex-loyalty" in row(browser, held).text

    # Stop asks for a second click before it stops anything.
    wait_for(browser, lambda d: press_stop(d, held, "Stop"), "the Stop button")
    wait_for(browser, lambda d: press_stop(d, held, "Confirm stop"), "the confirmation")
    wait_for(browser, lambda d: row(d, held).get_attribute("data-status") == "stopped",
             "the job to show as stopped")
    assert "stopped" in browser.find_element(By.ID, "notice").text
    stopped = globex.job(held)
    assert (stopped["status"], stopped["finishedCount"]) == ("stopped", 0)

    paused_workers()  # resume
    watched = acme.submit([*customers(240, prefix="watched"),
                           *(customer(f"bad-{i}", email="not-an-email") for i in range(10))])
    wait_for(browser, lambda d: row(d, watched), "the new job to appear")
    wait_for(browser, lambda d: bar_percent(d, watched) == 100, "its bar to reach 100%")
    wait_for(browser, lambda d: row(d, watched).get_attribute("data-status") == "completed",
             "the job to show as completed")
    cells = [cell.text for cell in row(browser, watched).find_elements(By.TAG_NAME, "td")]
    assert cells[5:8] == ["240", "10", "250"]  # applied, failed, total
    assert not row(browser, watched).find_elements(By.CSS_SELECTOR, "button.stop")
    assert int(browser.find_element(By.ID, "workers").text) >= 1
    assert acme.job(watched)["status"] == "completed"
    assert db.execute("SELECT count(*) FROM customers WHERE tenant_id = %s"
                      " AND customer_id LIKE 'held-%%'", (globex.tenant_id,)).fetchone()[0] == 0

    screenshot = tmp_path / "dashboard.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG")
    if os.environ.get("UPDATE_SCREENSHOTS"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copyfile(screenshot, ROOT / "docs" / "dashboard.png")
