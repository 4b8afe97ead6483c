"""The graded class's feedback pages as a student sees them, in Debian's Chromium (Playwright).

Every page of DIR/feedback (and one page built to be as wide as a notebook can make it) is
opened at 1280x800 with every request other than the page itself aborted and counted:

- nothing is requested, and the page's policy refuses nothing (it had nothing to refuse);
- nothing widens the page: every message, code line, table, output and formula wraps or
  scrolls inside its own box;
- every formula is MathML that Chromium lays out (a non-zero box), and no TeX delimiter is
  left in the text outside code.

One screenshot per assignment of a page with a named mistake goes to
`test-artifacts/feedback/` (or $COURSE_TEST_ARTIFACTS/feedback/).
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections import defaultdict
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell
from playwright.sync_api import Browser, Route, sync_playwright

from autograder.exercises import ASSIGNMENTS
from autograder.feedback import CSP, MAX_MARKDOWN, MISTAKE_PREFIX, render_feedback
from tests.browser import ARTIFACTS_ROOT, CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = ARTIFACTS_ROOT / "feedback"
VIEWPORT = {"width": 1280, "height": 800}
ORIGIN = "http://feedback.invalid/"
"""Where a page is served from (by the test itself: nothing is fetched from a network)."""

MEASURE = r"""() => {
  const width = window.innerWidth;
  const name = el => el.tagName.toLowerCase()
      + (el.getAttribute('class') ? '.' + el.getAttribute('class').trim().split(/\s+/).join('.')
         : '');
  const scrolls = new Map();
  const isScrollBox = el => {
    if (!scrolls.has(el)) {
      const overflow = getComputedStyle(el).overflowX;
      scrolls.set(el, overflow === 'auto' || overflow === 'scroll' || overflow === 'hidden');
    }
    return scrolls.get(el);
  };
  const inScrollBox = el => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (isScrollBox(up)) return true;
    }
    return false;
  };
  const wide = [];
  for (const el of document.querySelectorAll('main *')) {
    const box = el.getBoundingClientRect();
    if (!box.width || inScrollBox(el)) continue;
    if (box.left < -0.5 || box.right > width + 0.5) {
      wide.push(`${name(el)} spans ${Math.round(box.left)}..${Math.round(box.right)} px`);
    }
  }
  const maths = [...document.querySelectorAll('math')];
  const flat = maths.filter(m => {
    const box = m.getBoundingClientRect();
    return !(box.width > 0 && box.height > 0);
  }).map(m => m.outerHTML.slice(0, 200));
  const tex = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('code, pre, math')) continue;
    if (/\$|\\\(|\\\[/.test(node.data)) tex.push(node.data.trim().slice(0, 120));
  }
  return {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: width,
          verdicts: document.querySelectorAll('.verdict').length,
          wide: wide.slice(0, 5), wideCount: wide.length,
          maths: maths.length, flat: flat.slice(0, 3), tex: tex.slice(0, 3)};
}"""


class Viewer:
    """One Chromium tab at VIEWPORT that opens pages the test serves itself: every other
    request is aborted and counted against the page being opened, and so is every message
    of its console (where Chromium reports what the page's policy refused)."""

    def __init__(self, browser: Browser) -> None:
        self.tab = browser.new_page(viewport=VIEWPORT)
        self.served: dict[str, bytes] = {}
        self.seen: list[str] = []
        self.tab.on("console", lambda message: self.seen.append(
            f"console {message.type}: {message.text}"))
        self.tab.route("**/*", self._serve)

    def _serve(self, route: Route) -> None:
        body = self.served.get(route.request.url)
        if body is None:
            self.seen.append(route.request.url)
            route.abort()
        else:
            route.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")

    def open(self, body: str | bytes, name: str, screenshot: Path | None = None) -> dict:
        """Open page `body`, served as ORIGIN + `name` (unique per page); returns its
        measurements (MEASURE) with `requests`, what it asked for or was refused. Saves a
        full-page `screenshot` when given."""
        url = ORIGIN + name
        self.served = {url: body.encode() if isinstance(body, str) else body}
        self.seen = []
        self.tab.goto(url, wait_until="load")
        measured = self.tab.evaluate(MEASURE)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            self.tab.screenshot(path=str(screenshot), full_page=True)
        return {**measured, "requests": list(self.seen)}


def problems(measured: dict) -> list[str]:
    """What is wrong with a page's measurements (empty: nothing)."""
    found = []
    if measured["requests"]:
        found.append(f"requested {measured['requests'][:3]}")
    if measured["scrollWidth"] > measured["innerWidth"]:
        found.append(f"the page is {measured['scrollWidth']} px wide in a "
                     f"{measured['innerWidth']} px window")
    if measured["wideCount"]:
        found.append(f"{measured['wideCount']} elements wider than the page: {measured['wide']}")
    if measured["flat"]:
        found.append(f"formulas laid out with no size: {measured['flat']}")
    if measured["tex"]:
        found.append(f"TeX left in the text: {measured['tex']}")
    return found


@pytest.fixture(scope="module")
def viewer():
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: `make test` installs it (apt-get)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield Viewer(browser)
        browser.close()


def shown_student(rows: list[dict]) -> dict[str, str]:
    """Per assignment, the first student (by name) whose page has a named mistake."""
    chosen: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["student_id"]):
        if row["mistake"] and row["assignment"] not in chosen:
            chosen[row["assignment"]] = row["student_id"]
    return chosen


@pytest.fixture(scope="module")
def measured_class(graded_class, viewer):
    """{relative path: measurements} of every feedback page of the graded class."""
    feedback = graded_class.out / "feedback"
    paths = sorted(feedback.glob("**/*.html"))
    shown = shown_student(graded_class.rows())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    measured = {}
    for path in paths:
        name = path.relative_to(feedback).as_posix()
        student, assignment = path.parent.name, path.stem
        shot = ARTIFACTS / f"{assignment}.png" if shown.get(assignment) == student else None
        measured[name] = viewer.open(path.read_bytes(), name, shot)
    return measured


def test_every_page_of_the_class_is_opened(graded_class, measured_class):
    expected = {f"{row['student_id']}/{row['assignment']}.html" for row in graded_class.rows()}
    assert set(measured_class) == expected
    assert {name.split("/")[1].removesuffix(".html") for name in measured_class} == set(
        ASSIGNMENTS)
    # every page shows a verdict box per row of grades.csv
    rows = defaultdict(int)
    for row in graded_class.rows():
        rows[f"{row['student_id']}/{row['assignment']}.html"] += 1
    wrong = {name: (m["verdicts"], rows[name]) for name, m in measured_class.items()
             if m["verdicts"] != rows[name]}
    assert not wrong, f"pages whose verdict boxes are not one per row: {wrong}"


def test_class_pages_request_nothing_and_fit_the_window(measured_class):
    wrong = {name: problems(m) for name, m in measured_class.items() if problems(m)}
    assert not wrong, f"{len(wrong)} pages: {dict(list(wrong.items())[:5])}"


def test_class_pages_lay_out_their_formulas(measured_class):
    for assignment in ASSIGNMENTS:
        maths = {name: m["maths"] for name, m in measured_class.items()
                 if name.endswith(f"/{assignment}.html")}
        assert maths[f"correct/{assignment}.html"] > 0, f"{assignment}: no formula shown"
    # (that each is laid out with a size is part of `problems`)


def test_a_screenshot_per_assignment_of_a_named_mistake(graded_class, measured_class):
    shown = shown_student(graded_class.rows())
    assert set(shown) == set(ASSIGNMENTS), "an assignment has no named mistake in the class"
    for assignment, student in shown.items():
        shot = ARTIFACTS / f"{assignment}.png"
        assert shot.stat().st_size > 10_000, f"{shot} is missing or blank"
        page = (graded_class.out / "feedback" / student / f"{assignment}.html").read_text()
        assert MISTAKE_PREFIX in page


# ---------------------------------------------------------------- as wide as it gets


def wide_png(width: int, height: int) -> str:
    """A real PNG of `width` x `height` grey pixels, base64."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    raw = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0,
                                                              0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(raw).decode()


def test_the_widest_content_wraps_or_scrolls_in_its_own_box(viewer):
    token = "x" * 3000
    word = token[:1000]
    sum_tex = " + ".join(f"a_{{{i}}} b_{{{i}}}" for i in range(60))
    table = "| " + " | ".join(f"column {i}" for i in range(60)) + " |\n|" + "---|" * 60 + "\n"
    table += "| " + " | ".join(word[:40] for _ in range(60)) + " |\n"
    nbgrader = {"grade": True, "grade_id": "test_wide", "points": 1, "solution": False}
    test_cell = new_code_cell(f'"""test_wide: {token}"""\ncheck({token})\n',
                              metadata={"nbgrader": nbgrader})
    printed = new_code_cell(f"print('{token}')", outputs=[
        new_output("stream", name="stdout", text=token + " " + "y " * 3000),
        new_output("execute_result", data={"text/plain": token}, execution_count=1),
        new_output("display_data", data={"image/png": wide_png(4000, 2)}),
        new_output("error", ename="ValueError", evalue=token, traceback=[token])])
    markdown = (f"# {word}\n\n{word}\n\n$${sum_tex}$$\n\nInline ${sum_tex}$ too, `{word}` and "
                f"[{word}](http://{word}.example).\n\n{table}\n    {word}\n\n```\n{word}\n```")
    assert len(markdown) < MAX_MARKDOWN  # rendered, not shown as plain text
    nb = new_notebook(cells=[
        new_markdown_cell(markdown),
        new_markdown_cell(r"$\begin{pmatrix}" + " & ".join(["123456"] * 100)
                          + r"\end{pmatrix}$"),
        printed, test_cell, new_raw_cell(token)])
    rows = [{"grade_id": "test_wide", "score": 0, "max_score": 1, "status": "wrong_answer",
             "mistake": "m" * 300, "message": f"{token} {token}"},
            {"grade_id": f"test_{token}", "score": 0, "max_score": 1, "status": "cell_missing",
             "mistake": "", "message": token}]
    page = render_feedback(nb, student=token, assignment=token, rows=rows)
    measured = viewer.open(page, "wide.html")
    found = problems(measured)
    assert not found, found
    assert measured["maths"] == 3 and measured["verdicts"] == 2


def test_the_viewer_counts_what_a_page_asks_for(viewer):
    """What the checks above rely on: a request is counted, and so is a load the page's own
    policy refused (it never reaches the network)."""
    asks = '<img src="http://elsewhere.invalid/x.png"><p>$x$ \\(y\\)</p>'
    plain = viewer.open(f"<!DOCTYPE html><html><body><main>{asks}</main></body></html>",
                        "plain.html")
    assert "http://elsewhere.invalid/x.png" in plain["requests"]
    assert plain["tex"] and problems(plain)
    refused = viewer.open(f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy"'
                          f' content="{CSP}"></head><body><main>{asks}</main></body></html>',
                          "refused.html")
    assert refused["requests"] and all("console" in seen for seen in refused["requests"])
