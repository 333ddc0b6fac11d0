"""Drives the Prefect UI (v2) in Debian's headless Chromium through selenium, the way a person clicks it.

Every step leaves a numbered screenshot; waits are WebDriverWait conditions with a bound, never sleeps.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

OPTIONAL = " (Optional)"


class Browser:
    def __init__(self, url: str, auth: str, shots: Path, chromium: str = "/usr/bin/chromium",
                 chromedriver: str = "/usr/bin/chromedriver") -> None:
        self.url, self.auth, self.shots = url, auth, shots
        self.chromium, self.chromedriver = chromium, chromedriver
        self.step = 0

    def __enter__(self) -> "Browser":
        self.shots.mkdir(parents=True, exist_ok=True)
        options = webdriver.ChromeOptions()
        options.binary_location = self.chromium
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1400,1600", f"--user-data-dir={self.shots.parent / 'chromium-profile'}"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(self.chromedriver), options=options)
        self.wait = WebDriverWait(self.driver, 60, ignored_exceptions=(StaleElementReferenceException,))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shot("last")
        self.driver.quit()

    # ---- primitives -------------------------------------------------------------------------------
    def shot(self, name: str) -> Path:
        self.step += 1
        path = self.shots / f"{self.step:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def click(self, xpath: str) -> None:
        for _ in range(3):  # the UI re-renders while loading: a found element may go stale before the click
            try:
                self.wait.until(EC.element_to_be_clickable((By.XPATH, xpath))).click()
                return
            except StaleElementReferenceException:
                continue
        self.wait.until(EC.element_to_be_clickable((By.XPATH, xpath))).click()

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def field(self, label: str, control: str):
        return self.wait.until(EC.presence_of_element_located(
            (By.XPATH, f"//label[starts-with(normalize-space(), '{label}')]/following::{control}[1]")))

    # ---- what a user does ---------------------------------------------------------------------------
    def log_in(self) -> None:
        self.driver.get(self.url)
        box = self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "input[type=password]")))
        self.shot("login")
        box.send_keys(self.auth)
        self.click("//button[@type='submit']")
        self.wait.until(EC.url_contains("/dashboard"))

    def open_deployment(self, name: str) -> None:
        self.click("//a[normalize-space()='Deployments']")
        self.click(f"//a[normalize-space()='{name}']")
        self.wait.until(EC.presence_of_element_located((By.XPATH, "//button[normalize-space()='Run']")))
        self.shot(f"deployment-{name}")

    def custom_run_form(self) -> dict[str, Any]:
        self.click("//button[normalize-space()='Run']")
        self.click("//*[@role='menuitem'][normalize-space()='Custom run']")
        self.wait.until(EC.presence_of_element_located((By.XPATH, "//h2[normalize-space()='Parameters'] | "
                                                                  "//*[normalize-space()='Parameters']")))
        self.field("Config file", "textarea")
        self.shot("run-form")
        labels = [e.text.strip() for e in self.driver.find_elements(By.XPATH, "//form//label") if e.text.strip()]
        labels = [label.removesuffix(OPTIONAL) for label in labels]
        start = labels.index("Teacher model") if "Teacher model" in labels else 0
        return {"labels": labels[start:]}

    def fill_number(self, label: str, value: int | float) -> None:
        box = self.field(label, "input")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(str(value))

    def fill_text(self, label: str, value: str) -> None:
        box = self.field(label, "textarea")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value)

    def toggle(self, label: str) -> None:
        self.field(label, "button[@role='switch']").click()

    def submit_and_open_run(self) -> str:
        """Submit the form, follow the toast's "View run"; returns the run name the form showed."""
        name = self.field("Run Name", "input").get_attribute("value")
        self.shot("form-filled")
        self.click("//button[normalize-space()='Submit']")
        self.click("//*[normalize-space()='View run']")
        self.wait.until(EC.url_contains("/runs/flow-run/"))
        self.wait.until(EC.presence_of_element_located((By.XPATH, f"//*[normalize-space()='{name}']")))
        self.shot("run-submitted")
        return name

    def wait_for_state(self, state: str, timeout_s: float) -> None:
        """Watch the run page's state badge; reload now and then as a user would, within a bound."""
        deadline = time.monotonic() + timeout_s
        badge = f"//*[normalize-space()='{state}']"
        while True:
            try:
                WebDriverWait(self.driver, 15).until(EC.presence_of_element_located((By.XPATH, badge)))
                break
            except TimeoutException:
                assert time.monotonic() < deadline, f"the run page never showed {state}: {self.text()[:800]}"
                for final in ("Failed", "Crashed", "Cancelled"):
                    assert not self.driver.find_elements(By.XPATH, f"//*[normalize-space()='{final}']"), \
                        f"the run ended {final}: {self.text()[:1500]}"
                self.driver.refresh()
        self.shot(f"run-{state.lower()}")

    def read_artifact(self, key: str) -> str:
        self.click("//button[normalize-space()='Artifacts']")
        self.click(f"//a[contains(@href, '/artifacts/key/{key}')]")
        self.wait.until(EC.url_contains(f"/artifacts/key/{key}"))
        self.shot(f"artifact-{key}-versions")
        self.click("//a[contains(@href, '/artifacts/artifact/')]")  # this run's version: the newest card
        self.wait.until(EC.presence_of_element_located((By.XPATH, "//*[contains(normalize-space(), 'Magnet run')]")))
        self.shot(f"artifact-{key}")
        text = self.text()
        self.driver.back()
        self.driver.back()
        return text

    def open_task_run(self, prefix: str) -> dict[str, str]:
        self.click("//button[normalize-space()='Task Runs']")
        self.click(f"//a[contains(@href, '/runs/task-run/')][starts-with(normalize-space(), '{prefix}')]")
        self.wait.until(EC.presence_of_element_located((By.XPATH, "//*[normalize-space()='Run Count']")))
        self.shot(f"task-run-{prefix}")
        lines = [line.strip() for line in self.text().splitlines()]
        return {key: lines[lines.index(key) + 1] for key in ("Run Count", "Retries", "Duration") if key in lines}
