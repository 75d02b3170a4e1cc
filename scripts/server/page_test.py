#!/usr/bin/env python3
"""Drives the chat page of `doge serve` in headless Chromium.

Types a message, sees the reply stream in (its text grows over several polls), checks the
reply's tokens/s, reloads and finds the conversation again, restarts the server on the same
database and finds it once more, and saves a screenshot to docs/chat-page.png.

Installs Debian's chromium + chromium-driver (apt) and selenium (pip) when missing:
    python3 scripts/server/page_test.py        # uses .build/debug/doge, or DOGE_BIN
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("DOGE_BIN", os.path.join(ROOT, ".build", "debug", "doge"))
SCREENSHOT = os.path.join(ROOT, "docs", "chat-page.png")


def ensure_tools():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver",
                       shell=True, check=True)
    try:
        import selenium  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "selenium"], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port, db):
    server = subprocess.Popen([BIN, "serve", "--port", str(port), "--db", db], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).read()
            return server
        except Exception:
            if server.poll() is not None:
                sys.exit("server exited")
            time.sleep(0.2)
    sys.exit("server did not start")


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def main():
    ensure_tools()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    port = free_port()
    db = os.path.join(tempfile.mkdtemp(), "chats.sqlite")
    base = f"http://127.0.0.1:{port}/"
    server = start_server(port, db)
    options = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,860"]:
        options.add_argument(arg)
    options.binary_location = shutil.which("chromium")
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        driver.get(base)
        check(driver.title == "doge chat", "the page loads")
        driver.find_element(By.ID, "system").send_keys("You are a friendly storyteller.")
        driver.find_element(By.ID, "max-tokens").send_keys("80")
        box = driver.find_element(By.ID, "input")
        box.send_keys("Tell me a short story about a dog.")
        box.send_keys(Keys.ENTER)
        lengths = []
        deadline = time.time() + 120
        while time.time() < deadline:
            replies = driver.find_elements(By.CSS_SELECTOR, ".msg.assistant .body")
            if replies:
                lengths.append(len(replies[-1].text))
            if not driver.find_element(By.ID, "send").get_property("disabled") and driver.find_elements(By.CSS_SELECTOR, ".msg.assistant .speed"):
                break
            time.sleep(0.02)
        reply = driver.find_elements(By.CSS_SELECTOR, ".msg.assistant .body")[-1].text
        check(len(reply) > 0, f"a reply arrived ({len(reply)} characters)")
        growing = sorted(set(l for l in lengths if 0 < l < len(reply)))
        check(len(growing) >= 2, f"the reply streamed in (partial lengths seen: {growing[:8]}…)")
        speed = driver.find_element(By.CSS_SELECTOR, ".msg.assistant .speed").text
        check(speed.endswith("tokens/s"), f"the reply shows its speed: {speed}")
        time.sleep(0.5)   # the save after the reply
        driver.refresh()
        time.sleep(1.0)
        titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#conv-list li .title")]
        check("Tell me a short story about a dog." in titles, f"after a reload the conversation is listed: {titles}")
        check(reply in driver.find_element(By.ID, "messages").text, "and its reply is shown again")

        # A restart on the same database keeps it.
        server.terminate(); server.wait(timeout=30)
        server = start_server(port, db)
        driver.get(base)
        time.sleep(1.0)
        driver.find_elements(By.CSS_SELECTOR, "#conv-list li .title")[0].click()
        time.sleep(1.0)
        check(reply in driver.find_element(By.ID, "messages").text, "after a server restart the conversation opens")
        check(driver.find_element(By.ID, "system").get_property("value") == "You are a friendly storyteller.", "with its system prompt")
        os.makedirs(os.path.dirname(SCREENSHOT), exist_ok=True)
        driver.save_screenshot(SCREENSHOT)
        print("screenshot:", os.path.relpath(SCREENSHOT, ROOT))
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
