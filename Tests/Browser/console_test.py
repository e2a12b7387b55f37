#!/usr/bin/env python3
"""Browser tests of the editors' console (issue 16): a real headless Chromium, driven by
Selenium through chromedriver, against the real haven-server and haven binaries, all on
loopback in a temporary directory.

Usage: console_test.py BIN_DIR   (the folder holding haven-server and haven: swift build --show-bin-path)

Every wait is on an element or a condition the page shows; the timeouts only stop a hang.
Screenshots of the main pages are kept in a folder under the temporary directory, printed at
the end.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves the other site's page without a line per request."""

    def log_message(self, format, *args):
        pass
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

HANG = 60  # seconds; only stops a hang
KOREAN_TITLE = "탈북 여성의 이야기"


class World:
    """A haven-server on a free loopback port with one token per person, and where things go."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="haven-console-"))
        self.shots = self.dir / "screenshots"
        self.shots.mkdir()
        self.database = self.dir / "server.sqlite"
        self.tokens = {
            name: self.token(role, name)
            for name, role in [("admin", "admin"), ("editor", "editor"), ("leaving", "editor"), ("amina", "field"),
                               ("reader", "reader")]
        }
        self.server = None
        self.url = ""

    def token(self, role: str, name: str) -> str:
        result = subprocess.run(
            [self.bin / "haven-server", "token", "create", "--database", self.database, "--create", "--role", role,
             "--name", name], capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
        return result.stdout.strip()

    def start(self):
        self.log = open(self.dir / "server.out", "w+")
        self.server = subprocess.Popen(
            [self.bin / "haven-server", "serve", "--database", self.database, "--port", "0",
             "--log-level", "warning"], stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.url = wait_for(lambda: self.listening(), "haven-server listening")

    def listening(self):
        if self.server.poll() is not None:
            raise AssertionError("haven-server ended: " + (self.dir / "server.out").read_text())
        for line in (self.dir / "server.out").read_text().splitlines():
            if "listening on " in line:
                return line.split()[-1]
        return None

    def stop(self):
        if self.server and self.server.poll() is None:
            self.server.terminate()
            self.server.wait()

    def haven(self, *arguments: str) -> str:
        """Runs `haven` on the test replica, with the test passphrase and a cheap key derivation."""
        passphrase = self.dir / "passphrase"
        if not passphrase.exists():
            passphrase.write_text("correct horse battery staple\n")
            passphrase.chmod(0o600)
        environment = dict(os.environ, HAVEN_REPLICA=str(self.dir / "replica.sqlite"),
                           HAVEN_PASSPHRASE_FILE=str(passphrase), HAVEN_TEST_ONLY_SCRYPT_LOG2N="10")
        result = subprocess.run([self.bin / "haven", *arguments], capture_output=True, text=True, env=environment,
                                cwd=self.dir, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise AssertionError(f"haven {' '.join(arguments)} failed: {result.stderr}")
        return result.stdout


def wait_for(condition, what: str):
    """Polls `condition` until it gives a value; the limit only stops a hang."""
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1000",
                     "--lang=en-US", "--disable-gpu"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Person:
    """One person at one browser."""

    def __init__(self, world: World, name: str):
        self.world = world
        self.name = name
        self.driver = browser()
        self.wait = WebDriverWait(self.driver, HANG)

    def open(self, path: str):
        self.driver.get(self.world.url + path)

    def shot(self, name: str):
        self.driver.save_screenshot(str(self.world.shots / f"{name}.png"))

    def heading(self) -> str:
        return self.wait.until(EC.presence_of_element_located((By.TAG_NAME, "h1"))).text

    def sign_in(self, token: str):
        self.open("/console/signin")
        field = self.wait.until(EC.presence_of_element_located((By.ID, "token")))
        field.send_keys(token)
        field.submit()
        self.wait.until(EC.url_contains("/console/records"))

    def fill(self, values: dict):
        for name, value in values.items():
            element = self.driver.find_element(By.NAME, name)
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)

    def save(self):
        self.driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()

    def quit(self):
        self.driver.quit()


def test_sign_in_and_search_in_korean(world, editor: Person):
    editor.open("/console/signin")
    editor.shot("signin")
    editor.sign_in(world.tokens["editor"])
    assert editor.heading() == "Records"
    # A Korean story, made in the console
    editor.open("/console/records/new?kind=story")
    editor.fill({"title": KOREAN_TITLE, "body": "본문에 <script>alert(1)</script> 라고 씁니다.", "language": "ko",
                 "status": "draft"})
    editor.save()
    editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), KOREAN_TITLE))
    assert "<script>alert(1)</script>" in editor.driver.find_element(By.TAG_NAME, "main").text, "script shown as text"
    editor.shot("record")
    # Searched for by its two-syllable word
    editor.open("/console/records")
    search = editor.wait.until(EC.presence_of_element_located((By.ID, "q")))
    search.send_keys("탈북")
    search.submit()
    editor.wait.until(EC.url_contains("q="))
    editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "tbody"), KOREAN_TITLE))
    assert "1 found" in editor.driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    editor.shot("search")


def submit_for_review(person: Person, title: str):
    """On a draft's page: sends it for review, then waits for its review page."""
    person.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "form[action$='/submit'] button"))).click()
    person.wait.until(EC.url_contains("/console/review/"))
    person.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), title))


def approve(reviewer: Person, title: str, comment: str):
    """From the review queue: opens `title`, reads its diff, approves it with `comment`."""
    reviewer.open("/console/review")
    reviewer.wait.until(EC.element_to_be_clickable((By.LINK_TEXT, title))).click()
    reviewer.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.diff")))
    reviewer.driver.find_element(By.ID, "approve-comment").send_keys(comment)
    reviewer.driver.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
    reviewer.wait.until(EC.url_matches(r"/console/records/[^/]+$"))
    reviewer.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "published"))


def test_bad_phone_then_review_and_approve_reaches_a_replica(world, editor: Person, admin: Person):
    editor.open("/console/records/new?kind=resource")
    editor.wait.until(EC.presence_of_element_located((By.NAME, "phone")))
    editor.fill({"name": "서울 상담전화", "category": "hotline", "country": "KR", "phone": "call us", "status": "draft"})
    editor.save()
    problem = editor.wait.until(EC.presence_of_element_located((By.ID, "problem-phone")))
    assert "phone: may hold only digits, spaces and + - ( )" in problem.text, problem.text
    assert editor.driver.find_element(By.NAME, "name").get_attribute("value") == "서울 상담전화", "typed text kept"
    phone = editor.driver.find_element(By.NAME, "phone")
    assert phone.get_attribute("aria-invalid") == "true"
    editor.shot("bad-phone")
    # Fixed, saved as a draft and submitted for review
    editor.fill({"phone": "+82 2 1577 0000"})
    editor.save()
    editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "서울 상담전화"))
    record_id = editor.driver.current_url.rstrip("/").split("/")[-1]
    submit_for_review(editor, "서울 상담전화")
    # Its author may not approve it: the server's two-person rule, in its words
    editor.driver.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
    editor.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=alert]"), "another editor or admin must approve it"))
    # Another person reads the diff (nothing published on the left, the new values on the right) and approves
    admin.sign_in(world.tokens["admin"])
    admin.open(f"/console/review/{record_id}")
    new_values = admin.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "table.diff"))).text
    assert "+82 2 1577 0000" in new_values, new_values
    admin.shot("review")
    approve(admin, "서울 상담전화", "번호를 확인했습니다")
    # A reader's replica receives it as any published change, with the comment
    token_file = world.dir / "reader-token"
    token_file.write_text(world.tokens["reader"] + "\n")
    token_file.chmod(0o600)
    world.haven("init", "--server", world.url, "--token-file", str(token_file))
    world.haven("sync")
    shown = world.haven("resources", "show", record_id)
    assert "+82 2 1577 0000" in shown and "서울 상담전화" in shown and "번호를 확인했습니다" in shown, shown
    # Its history names the editor and the approver
    editor.open(f"/console/records/{record_id}/history")
    editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "tbody"), "admin"))
    assert "editor" in editor.driver.find_element(By.TAG_NAME, "tbody").text
    editor.shot("history")
    # The Korean story of the first test goes through review too, for the pages after
    editor.open("/console/records?q=" + KOREAN_TITLE)
    editor.wait.until(EC.element_to_be_clickable((By.LINK_TEXT, KOREAN_TITLE))).click()
    submit_for_review(editor, KOREAN_TITLE)
    approve(admin, KOREAN_TITLE, "")


def test_import_a_pack_after_its_preview(world, editor: Person):
    pack = world.dir / "shelters.json"
    pack.write_text(json.dumps({"format": "haven-pack/1", "records": [
        {"kind": "resource", "fields": {"name": "부산 쉼터", "category": "shelter", "country": "KR",
                                        "phone": "+82 51 000 0000", "status": "draft"}}]}, ensure_ascii=False))
    editor.open("/console/import")
    editor.wait.until(EC.presence_of_element_located((By.ID, "pack"))).send_keys(str(pack))
    editor.save()
    editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Preview of the import"))
    assert "Would add 1" in editor.driver.find_element(By.CSS_SELECTOR, "[role=status]").text
    editor.shot("import-preview")
    # Nothing is written before the editor confirms (looked up in another tab)
    preview = editor.driver.current_window_handle
    editor.driver.switch_to.new_window("tab")
    editor.open("/console/records?q=부산")
    editor.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "0 found"))
    editor.driver.close()
    editor.driver.switch_to.window(preview)
    editor.driver.find_element(By.CSS_SELECTOR, "form[action='/console/import/confirm'] button").click()
    editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Imported"))
    editor.open("/console/records?q=부산")
    editor.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "1 found"))


def test_revoking_a_token_ends_its_session(world, admin: Person):
    leaving = Person(world, "leaving")
    try:
        leaving.sign_in(world.tokens["leaving"])
        admin.sign_in(world.tokens["admin"])
        admin.open("/console/tokens")
        button = admin.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='Revoke leaving']")))
        admin.shot("tokens")
        button.click()
        admin.wait.until(EC.invisibility_of_element_located((By.CSS_SELECTOR, "button[aria-label='Revoke leaving']")))
        leaving.open("/console/records")
        leaving.wait.until(EC.url_contains("/console/signin"))
        assert leaving.heading() == "Sign in"
    finally:
        leaving.quit()


def test_a_field_token_cannot_open_an_editor_page(world):
    field = Person(world, "amina")
    try:
        field.sign_in(world.tokens["amina"])
        field.open("/console/records/new?kind=story")
        assert field.heading() == "Not allowed"
        assert "a field token cannot open it" in field.driver.find_element(By.TAG_NAME, "main").text
        field.shot("field-403")
        try:
            field.driver.find_element(By.NAME, "title")
            raise AssertionError("a field token was shown the editor's form")
        except NoSuchElementException:
            pass
    finally:
        field.quit()


def test_a_form_from_another_site_is_refused(world, editor: Person):
    """A page on another origin posts a form to the console, with the editor signed in."""
    site = world.dir / "elsewhere"
    site.mkdir()
    (site / "index.html").write_text(
        f"""<!doctype html><form method="post" action="{world.url}/console/records/new">
        <input name="kind" value="resource"><input name="name" value="Planted"><input name="category" value="hotline">
        <input name="country" value="KR"><input name="status" value="published"><button id="go">go</button></form>""")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        editor.driver.get(f"http://localhost:{server.server_address[1]}/index.html")
        editor.wait.until(EC.element_to_be_clickable((By.ID, "go"))).click()
        editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "main"), "sent from another site"))
        editor.open("/console/records?q=Planted")
        editor.wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "0 found"))
    finally:
        server.shutdown()


def test_korean_interface_and_operator_pages(world, editor: Person):
    editor.open("/console/records?lang=ko")
    assert editor.heading() == "기록"
    editor.shot("records-ko")
    editor.open("/console/records?lang=en")
    assert editor.heading() == "Records"
    editor.open(f"/console/as?token=")
    Select(editor.wait.until(EC.presence_of_element_located((By.ID, "role")))).select_by_value("reader")
    editor.save()
    editor.wait.until(EC.text_to_be_present_in_element((By.TAG_NAME, "tbody"), KOREAN_TITLE))
    editor.shot("as-a-user")
    editor.open("/console/health")
    assert editor.heading() == "Health"
    editor.shot("health")
    # Readable on a phone
    editor.driver.set_window_size(390, 844)
    editor.open("/console/records")
    editor.shot("records-phone")
    editor.driver.set_window_size(1200, 1000)


def test_no_console_serves_no_console(world):
    """`serve --no-console`: the console's paths are not served, the API is."""
    import urllib.error
    import urllib.request
    output = open(world.dir / "no-console.out", "w+")
    server = subprocess.Popen(
        [world.bin / "haven-server", "serve", "--database", world.database, "--port", "0", "--no-console",
         "--log-level", "warning"], stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        def listening():
            assert server.poll() is None, (world.dir / "no-console.out").read_text()
            lines = [line for line in (world.dir / "no-console.out").read_text().splitlines() if "listening on " in line]
            return lines[0].split()[-1] if lines else None
        url = wait_for(listening, "haven-server --no-console listening")
        for path, status in [("/console/signin", 404), ("/healthz", 200)]:
            try:
                answer = urllib.request.urlopen(url + path).status
            except urllib.error.HTTPError as error:
                answer = error.code
            assert answer == status, f"{path}: {answer}"
    finally:
        server.terminate()
        server.wait()


def main():
    bin_dir = Path(sys.argv[1])
    world = World(bin_dir)
    world.start()
    editor = Person(world, "editor")
    admin = Person(world, "admin")
    tests = [
        partial(test_sign_in_and_search_in_korean, world, editor),
        partial(test_bad_phone_then_review_and_approve_reaches_a_replica, world, editor, admin),
        partial(test_import_a_pack_after_its_preview, world, editor),
        partial(test_a_form_from_another_site_is_refused, world, editor),
        partial(test_korean_interface_and_operator_pages, world, editor),
        partial(test_revoking_a_token_ends_its_session, world, admin),
        partial(test_a_field_token_cannot_open_an_editor_page, world),
        partial(test_no_console_serves_no_console, world),
    ]
    failures = 0
    try:
        for test in tests:
            name = test.func.__name__
            try:
                test()
                print(f"✔ {name}")
            except Exception:
                failures += 1
                print(f"✘ {name}\n{traceback.format_exc()}")
                for person in (editor, admin):
                    person.shot(f"failed-{name}-{person.name}")
    finally:
        editor.quit()
        admin.quit()
        world.stop()
    print(f"console browser tests: {len(tests) - failures} passed, {failures} failed; screenshots in {world.shots}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
