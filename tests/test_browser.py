"""The course as a student meets it: JupyterLab started as the README says (`make lab`),
driven in Debian's Chromium by Playwright.

- Every notebook, filled with the masters' solutions, runs to the end with Run All: no
  error output, every figure loaded, every formula typeset by MathJax, and every explorer
  live (moving any of its controls redraws its figure).
- An untouched notebook's first check fails with the one-line message, not a traceback,
  and nbgrader's Validate button shows the same sentence.
- The student's JupyterLab has Validate and no other nbgrader tool, and opening a notebook
  asks nothing (no kernel-selection dialog).

Screenshots of each notebook go to `test-artifacts/browser/` (or $COURSE_TEST_ARTIFACTS).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, sync_playwright

from autograder.course import assignments
from autograder.release import DEMO_MARKER
from course_lib.failures import WIDTH
from tests.browser import ARTIFACTS_ROOT, CHROMIUM_ARGS, get, make_jupyterlab
from tests.helpers import REPO, solution_sources, student_version, with_solutions

ASSIGNMENTS = assignments()
UNTOUCHED = "04_softmax_vs_hardmax"
ARTIFACTS = ARTIFACTS_ROOT / "browser"
WIDGET = "application/vnd.jupyter.widget-view+json"


def _write(nb: nbformat.NotebookNode, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started by `make lab` on a folder of filled and untouched notebooks."""
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is missing: `make test` installs it (apt-get)"
    root = tmp_path_factory.mktemp("lab")
    served = root / "notebooks"
    for assignment in ASSIGNMENTS:
        filled = with_solutions(assignment, solution_sources(assignment),
                                base=student_version(assignment))
        _write(filled, served / "filled" / f"{assignment}.ipynb")
    shutil.copy(REPO / "notebooks" / f"{UNTOUCHED}.ipynb", served / "untouched.ipynb")
    # every cell attached to the page, so that each can be looked at (not a setting a
    # student needs: JupyterLab renders cells as they scroll into view)
    settings = root / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    with make_jupyterlab("lab", root, f"LAB_DIR={served}",
                          extra="--LabApp.expose_app_in_browser=True") as base:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            yield {"base": base, "browser": browser, "served": served}
            browser.close()


def _open(lab, path: str) -> Page:
    """A new page on notebook `path`, its kernel idle; fails on any dialog."""
    page = lab["browser"].new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{lab['base']}/lab/tree/{path}?reset")  # no tabs of earlier pages
    page.wait_for_selector(".jp-NotebookPanel", timeout=90_000)
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const kernel = panel && panel.sessionContext.session?.kernel;
        return kernel && kernel.status === 'idle';
    }""", timeout=90_000)
    assert page.locator(".jp-Dialog").count() == 0, page.locator(".jp-Dialog").inner_text()
    return page


def _wait_idle(page: Page) -> None:
    page.wait_for_function("""() => window.jupyterapp.shell.currentWidget
        .sessionContext.session.kernel.status === 'idle'""", timeout=60_000, polling=200)
    page.wait_for_timeout(300)  # the last figure reaches the page


def _run_all(page: Page) -> list[dict]:
    """Run All, wait for the kernel, and return the notebook's cells as saved JSON."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => {
        const panel = window.jupyterapp.shell.currentWidget;
        const busy = [...panel.content.node.querySelectorAll('.jp-InputPrompt')]
            .some(p => p.textContent.includes('*'));
        return !busy && panel.sessionContext.session.kernel.status === 'idle';
    }""", timeout=300_000, polling=500)
    return page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.toJSON().cells")


def _formulas(cells: list[dict]) -> int:
    """How many $...$ and $$...$$ formulas the markdown cells hold (code excluded)."""
    count = 0
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            text = re.sub(r"```.*?```|`[^`\n]*`", "", text, flags=re.S)
            # inline formulas may wrap onto the next line, never across a paragraph
            count += len([f for f in re.findall(r"\$\$.+?\$\$|\$[^$]+?\$", text, flags=re.S)
                          if "\n\n" not in f])
    return count


def _outputs(cells: list[dict], kind: str) -> list[dict]:
    return [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])
            if o["output_type"] == kind or kind in o.get("data", {})]


CONTROLS = ".widget-hslider, .widget-dropdown, .widget-checkbox, .widget-toggle-buttons"


def _move(control) -> None:
    """Move one ipywidgets control away from its value, as a student would."""
    handle = control.locator(".noUi-handle")
    if handle.count():  # a slider: three steps, towards whichever end is further
        at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        handle.focus()
        for _ in range(3):
            handle.press("ArrowLeft" if at_max else "ArrowRight")
        return
    checkbox = control.locator("input[type=checkbox]")
    if checkbox.count():
        checkbox.click()
        return
    select = control.locator("select")
    if select.count():
        options = select.locator("option").all_inner_texts()
        current = select.locator("option:checked").inner_text()
        select.select_option(label=next(o for o in options if o != current))
        return
    control.locator("button:not(.mod-active)").first.click()  # toggle buttons


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_a_filled_notebook_runs_to_the_end_in_the_browser(lab, assignment):
    page = _open(lab, f"filled/{assignment}.ipynb")
    cells = _run_all(page)
    errors = _outputs(cells, "error")
    assert errors == [], [(e["ename"], e["evalue"]) for e in errors]

    # every figure: as many loaded images as static PNG outputs, plus one per explorer
    page.wait_for_function("""() => [...document.querySelectorAll('.jp-OutputArea img')]
        .every(i => i.complete && i.naturalWidth > 0)""", timeout=60_000)
    explorers = page.locator(".course-explorer")
    widgets = _outputs(cells, WIDGET)
    pngs = [o for o in _outputs(cells, "image/png") if WIDGET not in o["data"]]
    assert explorers.count() == len(widgets) >= 1, (explorers.count(), len(widgets))
    # each explorer in a demo cell, its output also a PNG for viewers without widgets
    for cell in cells:
        if any(WIDGET in o.get("data", {}) for o in cell.get("outputs", [])):
            assert "".join(cell["source"]).startswith(DEMO_MARKER), cell["source"][:3]
    assert all("image/png" in o["data"] for o in widgets)
    assert page.locator(".jp-OutputArea img").count() == len(pngs) + len(widgets)

    # every formula typeset (MathJax turns each into one mjx-container), none in error
    expected = _formulas(cells)
    page.wait_for_function(f"""() => document.querySelectorAll(
        '.jp-MarkdownOutput mjx-container').length >= {expected}""", timeout=60_000)
    assert page.locator(".jp-MarkdownOutput mjx-container").count() == expected
    assert page.locator("mjx-merror").count() == 0
    raw = page.evaluate("""() => [...document.querySelectorAll('.jp-MarkdownOutput')]
        .map(m => m.innerText).filter(t => /\\$[^$]+\\$/.test(t))""")
    assert raw == [], raw

    # every explorer is live: moving any of its controls redraws the figure
    for k in range(explorers.count()):
        explorer = explorers.nth(k)
        explorer.scroll_into_view_if_needed()
        image = explorer.locator("img")
        controls = explorer.locator(CONTROLS)
        assert controls.count() >= 1
        for c in range(controls.count()):
            before = image.get_attribute("src")
            _move(controls.nth(c))
            page.wait_for_function("([img, src]) => img.getAttribute('src') !== src",
                                   arg=[image.element_handle(), before], timeout=30_000)
            _wait_idle(page)  # every move drawn: the figure matches the controls
        if k == 0:
            explorer.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.screenshot(path=str(ARTIFACTS / f"{assignment}.png"))
    page.close()


def test_an_untouched_notebook_says_what_is_missing_in_one_line(lab):
    page = _open(lab, "untouched.ipynb")
    cells = _run_all(page)  # stops at the first error, as Run All does
    errors = _outputs(cells, "error")
    assert len(errors) == 1 and errors[0]["ename"] == "CheckFailed", errors
    shown = page.locator(".jp-OutputArea-output[data-mime-type="
                         "'application/vnd.jupyter.stderr']").last
    shown.scroll_into_view_if_needed()
    lines = shown.inner_text().strip().splitlines()
    assert lines[0] == "✗ Not implemented yet", lines
    assert "softmax is not implemented yet: write it in its cell" in " ".join(lines)
    assert len(lines) <= 4 and all(len(line) <= WIDTH for line in lines), lines
    page.screenshot(path=str(ARTIFACTS / "untouched-first-check.png"))

    # Validate runs the notebook on the server and shows the same sentence
    page.locator(".jp-NotebookPanel-toolbar").get_by_text("Validate", exact=True).click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Validation Results").wait_for(timeout=180_000)
    text = dialog.inner_text()
    assert "softmax is not implemented yet" in text, text
    assert "Traceback" not in text and "course_lib" not in text, text
    page.screenshot(path=str(ARTIFACTS / "untouched-validate.png"))
    page.close()


def test_the_student_sees_only_the_students_tools(lab):
    page = _open(lab, f"filled/{UNTOUCHED}.ipynb")
    menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
    assert menus and not any("nbgrader" in m.lower() for m in menus), menus
    toolbar = page.locator(".jp-NotebookPanel-toolbar")
    assert toolbar.get_by_text("Validate", exact=True).count() == 1
    tabs = page.locator(".jp-SideBar .lm-TabBar-tab").evaluate_all(
        "tabs => tabs.map(t => (t.title || '') + ' ' + (t.dataset.id || ''))")
    assert not any(re.search(r"assignment|course|nbgrader", t, re.I) for t in tabs), tabs
    commands = page.evaluate("() => window.jupyterapp.commands.listCommands()")
    assert [c for c in commands if c.startswith("nbgrader:")] == [] or all(
        "validate" in c for c in commands if c.startswith("nbgrader:")), commands
    for url in ("/formgrader", "/assignments", "/courses", "/create_assignment"):
        assert get(lab["base"] + url)[0] == 404, url

    # Validate's success says the grader runs more cases than the notebook's checks
    toolbar.get_by_text("Validate", exact=True).click()
    success = page.locator(".jp-Dialog .validation-success")
    success.wait_for(timeout=180_000)
    assert "passes all the tests" in success.inner_text()
    note = success.evaluate("e => getComputedStyle(e, '::after').content")
    assert "The grader runs more inputs of the same kinds" in note, note
    page.screenshot(path=str(ARTIFACTS / "filled-validate.png"))
    page.close()


def test_make_instructor_serves_nbgraders_instructor_tools(tmp_path):
    """`make instructor`: the same JupyterLab with Formgrader, on the course folder."""
    with make_jupyterlab("instructor", tmp_path) as base:
        assert get(f"{base}/formgrader")[0] == 200
        status, body = get(f"{base}/api/contents/source")
        assert status == 200 and {i["name"] for i in json.loads(body)["content"]} >= set(
            ASSIGNMENTS)
