"""An instructor reviews a graded class in nbgrader's Formgrader, in Debian's Chromium.

On a copy of the session's graded class, `make review DIR=...` serves JupyterLab; the
instructor opens a submission with a named mistake, reads the grader's verdict in every
graded cell, writes a comment and a manual score; the student's notebook changes and the
class is graded again while Formgrader stays open; the reloaded page still has both, and
`export` counts the manual score and carries the comment.
Screenshots go to test-artifacts/formgrader/.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import time

import nbformat
import pytest
from playwright.sync_api import sync_playwright

from autograder.review import verdict_text
from tests.browser import ARTIFACTS_ROOT, CHROMIUM, CHROMIUM_ARGS, make_jupyterlab
from tests.helpers import REPO, run_grader
from tests.test_review import _manual_fields, _submissions

ARTIFACTS = ARTIFACTS_ROOT / "formgrader"
COMMENT = "Good start: look at the axis of the sum again <b>and</b> rerun the check."


@pytest.fixture(scope="module")
def formgrader(graded_class, tmp_path_factory):
    """(JupyterLab's base URL, a Chromium page, SUBMISSIONS, DIR, the reviewed submission's
    rows) on a copy of the class, served by `make review`."""
    folder = tmp_path_factory.mktemp("formgrader")
    submissions, out = graded_class.copy_of(folder)
    by_submission = _submissions(graded_class.rows())
    reviewed = next(rows for rows in by_submission.values()
                    if any(r.mistake for r in rows) and any(r.score == 0 for r in rows))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with make_jupyterlab("review", folder, f"DIR={out}") as base, sync_playwright() as play:
        browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        yield base, page, submissions, out, reviewed
        browser.close()


def _open_submission(page, base, student, assignment):
    page.goto(f"{base}/formgrader/gradebook/{assignment}/{assignment}")
    page.locator("input[type=search]").fill(student)  # the list shows ten at a time
    page.get_by_text("Show All Names").click()
    page.get_by_role("link", name=student, exact=True).click()
    page.wait_for_selector("textarea.comment")
    page.wait_for_load_state("networkidle")


def _wait_for(condition, what, seconds=20):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"Formgrader did not save {what}"
        time.sleep(0.2)


def test_instructor_reviews_a_submission_and_the_review_survives_grading_again(formgrader):
    base, page, submissions, out, rows = formgrader
    student, assignment = rows[0].student_id, rows[0].assignment
    _open_submission(page, base, student, assignment)
    text = page.inner_text("body")
    for row in rows:  # every verdict, as the grader gave it
        assert verdict_text(row).splitlines()[0] in text, row
        if row.message:
            assert row.message.splitlines()[0][:60] in text, row
    page.screenshot(path=str(ARTIFACTS / "submission.png"))

    failed = next(r for r in rows if r.score == 0)
    comment_box = page.locator("textarea.comment").first
    comment_cell = comment_box.get_attribute("id").removesuffix("-comment")
    comment_box.fill(COMMENT)
    comment_box.press("Tab")
    score_box = page.locator(f"input.score#{failed.grade_id}")
    manual = failed.max_score / 2
    score_box.fill(f"{manual:g}")
    score_box.press("Tab")
    key_comment = ("comment", student, assignment, comment_cell)
    key_score = ("score", student, assignment, failed.grade_id)
    _wait_for(lambda: {key_comment, key_score} <= set(_manual_fields(out / "gradebook.db")),
              "the comment and the score")
    assert _manual_fields(out / "gradebook.db") == {key_comment: COMMENT, key_score: manual}

    # the student's notebook changes; the class is graded again, Formgrader still open
    path = submissions / student / assignment / f"{assignment}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("resubmitted"))
    nbformat.write(nb, path)
    proc, _ = run_grader(submissions, out, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "kept the manual grades of 1 cells and 1 comments" in proc.stdout

    _open_submission(page, base, student, assignment)
    assert page.locator(f"textarea#{comment_cell}-comment").input_value() == COMMENT
    assert float(page.locator(f"input.score#{failed.grade_id}").input_value()) == manual
    page.screenshot(path=str(ARTIFACTS / "submission-after-grading-again.png"))

    # the export counts the manual score and carries the comment
    export = out / "export" / "review.csv"
    done = subprocess.run([sys.executable, "-m", "autograder", "export", str(out), "--format",
                           "csv", "--to", str(export)], capture_output=True, text=True,
                          cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr
    with open(export, newline="") as handle:
        line = next(r for r in csv.DictReader(handle) if r["student_id"] == student)
    total = sum(r.score for r in rows) - failed.score + manual
    assert float(line[assignment]) == pytest.approx(total)
    assert COMMENT in line["comments"]

