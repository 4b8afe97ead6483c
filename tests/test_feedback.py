"""Feedback pages run nothing and load nothing, whatever a notebook holds; formulas are MathML.

Every hostile vector below is put in every place a notebook (or the grade rows) can carry
text: markdown, code, each kind of output, errors, test cells, raw cells, messages, ids. The
page is then walked with the standard library's HTML parser, independently of the renderer's
own allow-list guard, and must hold no script, frame, plug-in, form, base, refresh, event
handler, outside address or CSS that loads anything, while the student's text stays visible.
"""

import base64
import html
import re
import struct
import zlib
from collections import defaultdict
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from autograder.course import assignments
from autograder.exercises import ASSIGNMENTS, exercises
from autograder.feedback import (
    CSP,
    MAX_FORMULA,
    MAX_FORMULAS_PAGE,
    MAX_HIGHLIGHT_PAGE,
    MAX_MARKDOWN,
    MAX_MARKDOWN_PAGE,
    MISTAKE_PREFIX,
    find_math,
    render_feedback,
    tex_to_mathml,
    write_feedback,
)
from tests.helpers import master, student_version

# ---------------------------------------------------------------- hostile content

TAGS = ["img", "svg", "body", "div", "a", "iframe", "video", "audio", "details", "input",
        "marquee", "math", "object", "select", "textarea", "style", "link", "table", "button",
        "form", "image", "p", "span", "isindex", "frameset", "keygen", "xss"]
HANDLERS = ["onerror", "onload", "onmouseover", "onfocus", "ontoggle", "onanimationstart",
            "ONCLICK", "oNpOinTeRenTeR", "onbegin"]
URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)",
        "java\tscript:alert(1)", "&#106;avascript:alert(1)", "jav&#x0A;ascript:alert(1)",
        "vbscript:msgbox(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:image/svg+xml,<svg onload=alert(1)>", "http://evil.example/x.js",
        "//evil.example/x", "file:///etc/passwd"]
URL_PLACES = ['<a href="{u}">link</a>', "<img src='{u}'>", "<iframe src={u}></iframe>",
              '<form action="{u}"><button>go</button></form>', '<object data="{u}"></object>',
              '<embed src="{u}">', '<base href="{u}">',
              '<meta http-equiv="refresh" content="0;url={u}">',
              '<link rel="stylesheet" href="{u}">',
              '<svg><a xlink:href="{u}"><text>x</text></a></svg>',
              '<button formaction="{u}">x</button>', '<video poster="{u}"></video>',
              "[markdown link]({u})", "![markdown image]({u})", "<{u}>",
              "[ref link][r]\n\n[r]: {u}", '[titled](http://x.example "{u}")']
OTHERS = [
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<script>alert(1)", "<img src=x onerror=alert(1)", "<div", "<scr<script>ipt>alert(1)</script>",
    "<svg onload=alert(1)><circle r=5 /></svg>", "<svg><script>alert(1)</script></svg>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<style>@import 'http://evil.example/x.css'; body { background: url(x) }</style>",
    "<template><script>alert(1)</script></template>",
    "<!--<script>alert(1)</script>-->", "<!--><script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>",
    "<div markdown=1>*x* <script>alert(1)</script></div>",
    "<a href=\"#check-1\" onclick=\"alert(1)\">forged anchor</a>",
    "<img src=\"data:image/png;base64,iVBORw0KGgo=\" onerror=\"alert(1)\">",
    "\"><script>alert(1)</script>", "'><img src=x onerror=alert(1)>",
    "</pre></div><script>alert(1)</script>", "</style><script>alert(1)</script>",
    "</title><script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;",
    "$\\text{<script>alert(1)</script>}$", "$\\href{javascript:alert(1)}{x}$",
    "$$\\style{background:url(x)}{x}$$", "$x$\" onmouseover=\"alert(1)",
    "[link]($x$)", "![$x$](javascript:alert(1))", "`$x$ <script>alert(1)</script>`",
    "\\(<img src=x onerror=alert(1)>\\)", "$\\color{red}{x}$",
    "$\\mathrm{</math><script>alert(1)</script>}$", "$\\begin{matrix}<b>1</b>\\end{matrix}$",
    "mathph000000000000x0z <script>alert(1)</script>",
    "```html\n<script>alert(1)</script>\n```",
    "\x1b[31m<script>alert(1)</script>\x1b[0m \x1b]8;;http://evil.example\x07link\x1b]8;;\x07",
    "zero\u200bwidth \u202eevil\u202c \u2066isolate\u2069 \x00nul",
]
VECTORS = ([f"<{tag} {handler}=alert(1)>x</{tag}>" for tag in TAGS for handler in HANDLERS[:3]]
           + [f"<{TAGS[i % len(TAGS)]} {handler}=\"alert(1)\" src=x>"
              for i, handler in enumerate(HANDLERS)]
           + [place.format(u=url) for place in URL_PLACES for url in URLS]
           + OTHERS)

# ---------------------------------------------------------------- an independent audit


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster",
                  "background", "srcset", "codebase", "cite", "ping", "longdesc", "dynsrc",
                  "lowsrc", "manifest", "archive", "classid", "profile", "usemap", "icon"}
FORBIDDEN_TAGS = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
                  "base", "link", "input", "button", "textarea", "select", "template", "svg",
                  "video", "audio", "source", "track", "portal", "noscript", "isindex", "keygen",
                  "marquee", "image"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}
IMAGE_DATA = re.compile(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/]*={0,2}")
LOADS_IN_CSS = re.compile(r"url\(|expression|@import|://|javascript:|behavior", re.I)


class Audit(HTMLParser):
    """Every start tag and attribute of a page, checked; the page's visible text, collected."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems, self.text, self.css, self.metas, self.stack = [], [], [], [], []
        self.ids, self.hrefs, self.maths = set(), [], 0

    def handle_starttag(self, tag, attrs):
        self.stack.append(tag)
        self.check(tag, attrs)
        if tag in VOID:
            self.stack.pop()

    def check(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "math":
            self.maths += 1
        if tag == "meta" and any(name == "http-equiv" for name, _ in attrs):
            self.metas.append((dict(attrs), list(self.stack)))
        for name, value in attrs:
            value = value or ""
            squashed = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
            if name.startswith("on"):
                self.problems.append(f"handler {name} on <{tag}>")
            if name == "id":
                self.ids.add(value)
            if name == "href":
                self.hrefs.append(value)
                if not value.startswith("#"):
                    self.problems.append(f"href {value!r}")
            elif name == "src":
                if not IMAGE_DATA.fullmatch(value):
                    self.problems.append(f"src {value[:60]!r}")
            elif name in URL_ATTRIBUTES:
                self.problems.append(f"{name} on <{tag}>")
            if name == "style" and LOADS_IN_CSS.search(squashed):
                self.problems.append(f"style {value!r}")
            if "://" in squashed or squashed.startswith("//") or "javascript:" in squashed:
                if name != "content" or tag != "meta":
                    self.problems.append(f"address in {name}={value[:60]!r}")

    def handle_startendtag(self, tag, attrs):
        self.stack.append(tag)
        self.check(tag, attrs)
        self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if "style" in self.stack:
            self.css.append(data)
        elif "body" in self.stack:
            self.text.append(data)

    def handle_comment(self, data):
        self.problems.append("a comment")


def audit(page):
    """Problems of a page (empty when inert) and its visible text, whitespace squashed."""
    parser = Audit()
    parser.feed(page)
    parser.close()
    problems = list(parser.problems)
    css = "".join(parser.css)
    if LOADS_IN_CSS.search(css):
        problems.append("the page's CSS loads something")
    for attributes, stack in parser.metas:
        if (attributes.get("http-equiv", "").lower() != "content-security-policy"
                or attributes.get("content") != CSP or stack != ["html", "head", "meta"]):
            problems.append(f"meta http-equiv {attributes}")
    if len(parser.metas) != 1:
        problems.append(f"{len(parser.metas)} meta http-equiv instead of the page's one policy")
    if "default-src 'none'" not in CSP or "script-src" in CSP:
        problems.append("the policy does not forbid scripts")
    for href in parser.hrefs:
        if href[1:] not in parser.ids:
            problems.append(f"link to a missing anchor {href}")
    return problems, squash("".join(parser.text)), parser


def squash(text):
    return " ".join(text.split())


# ---------------------------------------------------------------- notebooks


def png_bytes():
    """A real 2x2 PNG, built by hand."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def b64(raw):
    return base64.b64encode(raw).decode()


BAD_IMAGES = ["not base64 at all <script>", b64(b"<svg onload=alert(1)></svg>"),
              b64(b"\x89PNX\r\n\x1a\n" + b"0" * 20), b64(png_bytes())[:-7] + "!!!",
              b64(png_bytes()) + '" onerror="alert(1)', "", ["iVBOR", "<img>"],
              b64(b"GIF89a" + b"\x00" * 20), b64(b"\xff\xd8"), 12345]


def hostile_notebook(vector):
    """One notebook with `vector` in every place a student (or their kernel) can put text.

    Built from plain dicts: nbformat's constructors validate each output, which costs more
    than rendering the page.
    """
    def shown(kind, **fields):
        return {"output_type": kind, "metadata": {}, **fields}

    outputs = [
        {"output_type": "stream", "name": "stdout", "text": vector},
        {"output_type": "stream", "name": "stderr", "text": vector},
        shown("execute_result", data={"text/plain": vector, "text/html": vector},
              execution_count=1),
        *[shown("display_data", data={mime: vector}) for mime in (
            "text/html", "image/svg+xml", "application/javascript", "text/markdown",
            "text/latex", "application/json", "image/png", "image/jpeg")],
        {"output_type": "error", "ename": vector, "evalue": vector,
         "traceback": [f"\x1b[0;31m{vector}\x1b[0m", "\x1b[1;32mline 2\x1b[0m"]},
    ]
    test_source = (f'"""test_x: {vector}"""\ncheck(x)\n### BEGIN HIDDEN TESTS\nsecret()\n'
                   "### END HIDDEN TESTS\n")
    nbgrader = {"grade": True, "grade_id": "test_x", "points": 1, "solution": False,
                "locked": True}
    return nbformat.from_dict({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": vector,
         "attachments": {"a.png": {"image/png": vector}}},
        {"cell_type": "markdown", "metadata": {}, "source": f"# {vector}\n\n- {vector}"},
        {"cell_type": "code", "metadata": {}, "source": vector, "outputs": outputs,
         "execution_count": 1},
        {"cell_type": "code", "metadata": {"nbgrader": nbgrader}, "source": test_source,
         "outputs": [], "execution_count": 2},
        {"cell_type": "raw", "metadata": {}, "source": vector}]})


def hostile_rows(vector):
    return [{"grade_id": "test_x", "score": 0, "max_score": 1, "status": "exception",
             "message": vector},
            {"grade_id": vector, "score": 0, "max_score": 2, "status": vector, "message": vector}]


def visible_markdown(vector):
    """What a reader may see of `vector` written in markdown (its text, markup aside): raw
    HTML shows as typed, entities elsewhere show as their characters."""
    shown = []
    for text in (squash(vector), squash(html.unescape(vector))):
        text = re.sub(r"!\[([^\]]*)\]\(([^)]*)\)", r"[image: \1 (\2) not shown]", text)
        shown.append(re.sub(r"\[([^\]]*)\]\((\S+)\)", r"\1 (\2)", text))
    return shown


@pytest.mark.parametrize("vector", VECTORS)
def test_hostile_content_runs_nothing_and_stays_visible(vector):
    page = render_feedback(hostile_notebook(vector), student=vector, assignment=vector,
                           rows=hostile_rows(vector))
    problems, text, parser = audit(page)
    assert not problems, f"{vector!r}: {problems}"
    assert "could not be shown" not in text, f"{vector!r} cost the notebook view"
    clean = squash(re.sub(r"\x1b\[[0-9;]*m|\x1b\]8;;[^\x07]*\x07|\x00", "", vector))
    # code, outputs of every kind, errors, messages: exactly the student's text
    assert text.count(clean) >= 12, f"{vector!r} not shown as text in each place"
    # markdown: the text shows, whatever markup it had (TeX becomes MathML, links text)
    if "$" not in vector and "\\(" not in vector and "```" not in vector and "[" not in vector:
        assert any(shown in text for shown in visible_markdown(clean)), vector
    assert "secret()" not in text and "HIDDEN TESTS" not in text


@pytest.mark.parametrize("student", ["zero\u200bwidth", "\u202eevil\u202c.txt", "a\u2066b\u2069",
                                     "\u200f\u061c\ufeff", "=1+1", "tab\tnew\nline"])
def test_invisible_characters_in_ids_are_shown(student):
    nb = hostile_notebook("plain")
    page = render_feedback(nb, student=student, assignment="01", rows=hostile_rows("plain"))
    problems, text, _ = audit(page)
    assert not problems
    shown = "".join(c if c.isprintable() else f"‹U+{ord(c):04X}›" for c in student)
    assert f"feedback for {shown}" in text
    assert not any(not c.isprintable() and c not in " \n" for c in text)


@pytest.mark.parametrize("bad", BAD_IMAGES, ids=range(len(BAD_IMAGES)))
def test_only_real_png_and_jpeg_images_are_shown(bad):
    good_png, good_jpeg = b64(png_bytes()), b64(b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    outputs = [{"output_type": "display_data", "metadata": {}, "data": data} for data in (
        {"image/png": bad, "text/plain": "<Figure bad>"}, {"image/jpeg": bad},
        {"image/png": good_png}, {"image/jpeg": good_jpeg})]
    code = {"cell_type": "code", "source": "plot()", "metadata": {}, "execution_count": None,
            "outputs": outputs}
    markdown = {"cell_type": "markdown", "metadata": {},
                "source": "![ok](attachment:ok.png) ![bad](attachment:bad.png)",
                "attachments": {"ok.png": {"image/png": good_png}, "bad.png": {"image/png": bad}}}
    nb = nbformat.from_dict({"cells": [code, markdown]})
    page = render_feedback(nb, student="s", assignment="a", rows=[])
    problems, text, _ = audit(page)
    assert not problems
    sources = re.findall(r'<img [^>]*src="([^"]*)"', page)
    assert sources == [f"data:image/png;base64,{good_png}", f"data:image/jpeg;base64,{good_jpeg}",
                       f"data:image/png;base64,{good_png}"]
    assert "<Figure bad>" in text and "not valid PNG/JPEG" in text


def test_tracebacks_lose_their_ansi_codes():
    nb = new_notebook(cells=[new_code_cell("f()", outputs=[new_output(
        "error", ename="ValueError", evalue="\x1b[1mbad\x1b[0m value",
        traceback=["\x1b[0;31m---------\x1b[0m", "\x1b[0;32mFile <cell>:1\x1b[0m in f()"])])])
    page = render_feedback(nb, student="s", assignment="a", rows=[])
    problems, text, _ = audit(page)
    assert not problems and "\x1b" not in page
    assert "ValueError: bad value" in text and "File <cell>:1 in f()" in text


@pytest.mark.parametrize("nb", [
    {"cells": "not a list"}, {"cells": [1, None, "x", {"cell_type": "code", "source": 5,
                                                       "outputs": {"a": 1}}]},
    {"cells": [{"cell_type": "code", "source": ["a", 1],
                "outputs": [None, {"output_type": "error"}, {"output_type": "display_data",
                                                             "data": [1]}]}]},
    {"cells": [{"cell_type": "markdown", "source": ["# a\n", "$x$"], "attachments": [1]}]},
], ids=["cells-not-a-list", "odd-cells", "odd-outputs", "odd-attachments"])
def test_malformed_notebooks_still_give_an_inert_page(nb):
    rows = [{"grade_id": "test_x", "score": "nan", "max_score": None, "status": "ok",
             "message": "<b>m</b>"}]
    page = render_feedback(nbformat.from_dict(nb), student="s", assignment="a", rows=rows)
    problems, text, _ = audit(page)
    assert not problems and "<b>m</b>" in text and "0 / 0" in text


def test_page_without_notebook_shows_the_rows():
    rows = [{"grade_id": "test_a", "score": 0, "max_score": 2, "status": "unreadable_notebook",
             "message": "the file is not a notebook: invalid JSON at line 3 <script>"},
            {"grade_id": "test_b", "score": 0, "max_score": 3, "status": "unreadable_notebook",
             "message": "x" * 5000}]
    page = render_feedback(None, student="bob", assignment="02_batchnorm_derivation", rows=rows)
    problems, text, parser = audit(page)
    assert not problems and parser.maths == 0
    assert "02_batchnorm_derivation: feedback for bob" in text
    assert "Total: 0 / 5 points" in text
    assert "invalid JSON at line 3 <script>" in text and "<h2>Your notebook</h2>" not in page
    assert re.search(r"\.verdict \.message \{[^}]*white-space: pre-wrap; overflow-wrap: anywhere",
                     page)


def test_rows_may_be_grade_objects():
    from autograder.grading import Row

    rows = [Row("s", "a", "test_x", 0.5, 1.0, "wrong_answer", "<i>half</i>")]
    page = render_feedback(hostile_notebook("plain"), student="s", assignment="a", rows=rows)
    problems, text, _ = audit(page)
    assert not problems and "Total: 0.5 / 1 points" in text and "<i>half</i>" in text


# ---------------------------------------------------------------- the masters


def graded_rows(nb):
    """Fake rows for a master: every graded cell, alternately full marks and 0 with a message."""
    rows = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            wrong = len(rows) % 2
            rows.append({"grade_id": meta["grade_id"], "max_score": meta["points"],
                         "score": 0 if wrong else meta["points"],
                         "status": "wrong_answer" if wrong else "ok",
                         "message": "expected 1.0, got 2.0 " * 20 if wrong else ""})
    return rows


@pytest.fixture(scope="module", params=assignments())
def master_page(request):
    nb = master(request.param)
    rows = graded_rows(nb)
    page = render_feedback(nb, student="alice", assignment=request.param, rows=rows)
    return request.param, nb, rows, page


def test_master_formulas_all_become_mathml(master_page):
    assignment, nb, _, page = master_page
    formulas = [f for cell in nb.cells if cell.cell_type == "markdown"
                for f in find_math(cell.source)]
    failed = [tex for tex, display in formulas if tex_to_mathml(tex.strip(), display) is None]
    assert formulas and not failed, f"{assignment}: {len(failed)} of {len(formulas)}: {failed}"
    problems, text, parser = audit(page)
    assert not problems
    assert parser.maths == len(formulas)
    # no TeX is left as text in the rendered markdown: no delimiters, no commands
    markdown_text = squash(" ".join(
        re.sub(r"<pre.*?</pre>|<code.*?</code>|<math.*?</math>", " ", chunk, flags=re.S)
        for chunk in re.findall(r'<div class="cell markdown">(.*?)</div>', page, flags=re.S)))
    assert "$" not in markdown_text and not re.search(r"\\[A-Za-z]+", markdown_text)


@pytest.mark.parametrize("assignment", assignments())
def test_released_notebook_formulas_all_become_mathml(assignment):
    """What students open: every formula of the released notebook (and so of every
    submission that keeps the markdown) converts without a network."""
    formulas = [f for cell in student_version(assignment).cells if cell.cell_type == "markdown"
                for f in find_math(cell.source)]
    failed = [tex for tex, display in formulas if tex_to_mathml(tex.strip(), display) is None]
    assert formulas and not failed, f"{assignment}: {len(failed)} of {len(formulas)}: {failed}"


def test_master_page_has_a_table_of_contents_of_its_checks(master_page):
    assignment, nb, rows, page = master_page
    problems, text, parser = audit(page)
    assert not problems and "could not be shown" not in text
    score = sum(r["score"] for r in rows)
    points = sum(r["max_score"] for r in rows)
    assert f"{assignment}: feedback for alice" in text
    assert f"Total: {score:g} / {points:g} points" in text
    for number, row in enumerate(rows, start=1):
        anchor = f"check-{number}"
        assert f"#{anchor}" in parser.hrefs and anchor in parser.ids
        box = re.search(rf'<div class="verdict [a-z]+" id="{anchor}">(.*?)</div></div>', page,
                        flags=re.S)
        assert box and row["grade_id"] in box[1] and row["status"] in box[1]
        cell = next(c for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == row["grade_id"])
        summary = re.match(r'\s*"""(.*?)(?:\n\n|""")', cell.source, flags=re.S)[1]
        described = squash(summary).removeprefix(f"{row['grade_id']}:").strip()
        assert f"{row['grade_id']}: {described}" in text
    assert "HIDDEN TESTS" not in page and "from autograder" not in text


def test_write_feedback_replaces_the_page_atomically(tmp_path):
    target = tmp_path / "feedback" / "s" / "a.html"
    write_feedback(target, None, student="s", assignment="a", rows=[])
    write_feedback(target, hostile_notebook("<b>x</b>"), student="s", assignment="a",
                   rows=hostile_rows("<b>x</b>"))
    assert "&lt;b&gt;x&lt;/b&gt;" in target.read_text(encoding="utf-8")
    assert [p.name for p in target.parent.iterdir()] == ["a.html"]
    blocked = tmp_path / "feedback" / "s" / "dir.html"
    (blocked / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        write_feedback(blocked, None, student="s", assignment="a", rows=[])
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.html", "dir.html"]


@pytest.mark.parametrize("unit", ["`a ", "$a ", "[", "*a _b ", "> ", "[a](", "\\(", "\\[", "$$a",
                                  "\\begin{a}", "<div>", "&#x41;", "|a|b|\n", "```\n", "- "])
def test_openers_without_closers_give_an_inert_page(unit):
    source = unit * (3000 // len(unit))
    page = render_feedback(new_notebook(cells=[new_markdown_cell(source)]), student="s",
                           assignment="a", rows=[])
    problems, text, _ = audit(page)
    assert not problems and "could not be shown" not in text
    assert squash(unit.replace("&#x41;", "A").strip("`[]>-|\\$ \n")) in text


def test_long_markdown_is_shown_as_plain_text():
    long = "<b>x</b> $y$ " * (MAX_MARKDOWN // 13 + 1)
    words = "word " * ((MAX_MARKDOWN - 1000) // 5)
    cells = [new_markdown_cell(long)] + [new_markdown_cell(f"$z$ {words}")
                                         for _ in range(MAX_MARKDOWN_PAGE // len(words) + 2)]
    page = render_feedback(new_notebook(cells=cells), student="s", assignment="a", rows=[])
    problems, text, parser = audit(page)
    assert not problems
    assert squash(long) in text
    formatted = MAX_MARKDOWN_PAGE // (len(words) + 4)
    assert parser.maths == formatted
    assert text.count("shown as plain text") == 1 + len(cells) - 1 - formatted


def test_a_formula_too_long_to_search_stays_text():
    formula = "$" + "x+" * MAX_FORMULA + "x$"
    page = render_feedback(new_notebook(cells=[new_markdown_cell(f"{formula} and $y$")]),
                           student="s", assignment="a", rows=[])
    problems, text, parser = audit(page)
    assert not problems and parser.maths == 1 and formula[1:-1] in text


def test_a_page_converts_a_bounded_number_of_formulas():
    per_cell = 1000
    cells = [new_markdown_cell(" ".join(f"$x_{{{c * per_cell + i}}}$" for i in range(per_cell)))
             for c in range(MAX_FORMULAS_PAGE // per_cell + 1)]
    page = render_feedback(new_notebook(cells=cells), student="s", assignment="a", rows=[])
    problems, text, parser = audit(page)
    assert not problems and parser.maths == MAX_FORMULAS_PAGE
    assert f"$x_{{{MAX_FORMULAS_PAGE}}}$" in text and "$x_{0}$" not in text


def test_a_page_colours_a_bounded_amount_of_code():
    source = "value = compute(1, 'two')\n" * (MAX_HIGHLIGHT_PAGE // 26 // 4)
    cells = [new_code_cell(source) for _ in range(MAX_HIGHLIGHT_PAGE // len(source) + 2)]
    page = render_feedback(new_notebook(cells=cells), student="s", assignment="a", rows=[])
    problems, text, _ = audit(page)
    assert not problems and text.count(squash(source)) == len(cells)
    coloured = [bool(re.search(r"<span class=", block))
                for block in re.findall(r'<pre class="source">(.*?)</pre>', page, flags=re.S)]
    assert coloured == [True] * (MAX_HIGHLIGHT_PAGE // len(source)) + [False] * 2


def test_image_alt_text_holds_no_markup_or_formula():
    cell = {"cell_type": "markdown", "metadata": {},
            "source": '![$x$ <b>"q"</b> *e*](attachment:ok.png) and $y$',
            "attachments": {"ok.png": {"image/png": b64(png_bytes())}}}
    page = render_feedback(nbformat.from_dict({"cells": [cell]}), student="s", assignment="a",
                           rows=[])
    problems, text, parser = audit(page)
    assert not problems and "could not be shown" not in text and parser.maths == 1
    assert re.search(r'<img alt=" &lt;b&gt;&quot;q&quot;&lt;/b&gt; e" src="data:image/png', page)


@pytest.mark.parametrize("make", [new_code_cell, new_markdown_cell, nbformat.v4.new_raw_cell])
def test_hidden_tests_are_removed_from_every_kind_of_cell(make):
    """A copy of a hidden test in any cell (a duplicated test cell loses its grade_id)."""
    hidden = "x = 1\n### BEGIN HIDDEN TESTS\nsecret_case()\n### END HIDDEN TESTS\ny = 2\n"
    cell = make(hidden)
    if cell.cell_type == "code":  # its traceback quotes the hidden lines
        cell.outputs = [new_output("error", ename="NameError", evalue="secret_case",
                                   traceback=["----> 3 secret_case()"])]
    page = render_feedback(new_notebook(cells=[cell]), student="s", assignment="a", rows=[])
    problems, text, _ = audit(page)
    assert not problems
    assert "secret_case" not in page and "HIDDEN" not in page
    assert "x = 1" in text and "y = 2" in text


# ---------------------------------------------------------------- the graded class's pages


@pytest.fixture(scope="module")
def class_pages(graded_class):
    """[(student, assignment, rows, page)] of every page of the graded class, rows in
    grades.csv's order."""
    rows = defaultdict(list)
    for row in graded_class.rows():
        rows[row["student_id"], row["assignment"]].append(row)
    pages = []
    for (student, assignment), own in sorted(rows.items()):
        path = graded_class.out / "feedback" / student / f"{assignment}.html"
        pages.append((student, assignment, own, path.read_text(encoding="utf-8")))
    assert {a for _, a, _, _ in pages} == set(ASSIGNMENTS)
    return pages


def verdict_box(page, number):
    """The inside of verdict box `check-<number>` of a page (its tags and escaped text)."""
    box = re.search(rf'<div class="verdict [a-z]+" id="check-{number}">(.*?)</div></div>', page,
                    flags=re.S)
    assert box, f"no verdict box check-{number}"
    return box[1]


def test_class_pages_name_every_link_after_its_check(class_pages):
    for student, assignment, rows, page in class_pages:
        problems, _, parser = audit(page)
        assert not problems, (student, assignment, problems)
        links = re.findall(r'<tr><td><a href="#check-(\d+)"><code>(.*?)</code></a>: (.*?)'
                           r'(?: <span class="note">.*?</span>)?</td>', page)
        where = f"{student}/{assignment}"
        assert [int(number) for number, _, _ in links] == list(range(1, len(rows) + 1)), where
        assert [html.unescape(grade_id) for _, grade_id, _ in links] == [
            row["grade_id"] for row in rows], where
        described = [html.unescape(what) for _, _, what in links]
        assert all(what.strip() and what.strip().lower() != "test cell" for what in described)
        assert sorted(parser.hrefs) == sorted(f"#check-{n}" for n in range(1, len(rows) + 1))
        assert all(href[1:] in parser.ids for href in parser.hrefs)


def test_class_pages_show_the_total_and_each_verdict_with_its_mistake(class_pages):
    named = 0
    for student, assignment, rows, page in class_pages:
        _, text, _ = audit(page)
        score = sum(float(row["score"]) for row in rows)
        points = sum(float(row["max_score"]) for row in rows)
        assert f"Total: {score:g} / {points:g} points" in text, (student, assignment)
        for number, row in enumerate(rows, start=1):
            box = verdict_box(page, number)
            shown = squash(html.unescape(re.sub(r"<[^>]*>", " ", box)))
            assert row["grade_id"] in shown and row["status"] in shown
            assert squash(row["message"].lstrip("'")) in shown, (student, row["grade_id"])
            if row["mistake"]:
                named += 1
                assert f'<code class="mistake">{MISTAKE_PREFIX}{row["mistake"]}</code>' in box
                hint = exercises(assignment)[row["grade_id"]].mistakes[row["mistake"]]
                assert squash(hint) in shown, (student, row["grade_id"], row["mistake"])
            else:
                assert 'class="mistake"' not in box and MISTAKE_PREFIX not in shown
    assert named, "the graded class has no named mistake: this test would show nothing"


def hidden_lines(assignment):
    """The lines of the master's hidden tests (what no student may see), stripped."""
    lines = set()
    for cell in master(assignment).cells:
        for block in re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
                                cell.source, flags=re.S):
            lines.update(line.strip() for line in block.splitlines() if line.strip())
    return lines


def test_class_pages_hold_nothing_of_the_hidden_tests(class_pages):
    hidden = {assignment: hidden_lines(assignment) for assignment in ASSIGNMENTS}
    assert all(hidden.values()), "a master without hidden tests: nothing to look for"
    for student, assignment, _, page in class_pages:
        shown = html.unescape(re.sub(r"<[^>]*>", "", page))
        leaked = [line for line in hidden[assignment] if line in shown]
        assert not leaked and "HIDDEN TESTS" not in shown, (student, assignment, leaked)
        # a test cell shows its verdict, never its outputs (they may quote a hidden case)
        assert not re.search(r'<div class="cell code test">(?:(?!<div class="cell ).)*'
                             r'class="[^"]*output', page, flags=re.S), (student, assignment)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_declared_mistake_shows_its_id_and_hint_once(assignment):
    declared = [(grade_id, mistake, hint) for grade_id, exercise in exercises(assignment).items()
                for mistake, hint in exercise.mistakes.items()]
    assert declared, f"{assignment} declares no named mistake"
    for grade_id, mistake, hint in declared:
        for message in ("the answer is wrong", f"case 1: {hint}"):
            row = {"grade_id": grade_id, "score": 0, "max_score": 1, "status": "wrong_answer",
                   "mistake": mistake, "message": message}
            page = render_feedback(None, student="s", assignment=assignment, rows=[row])
            problems, text, _ = audit(page)
            assert not problems
            assert f"{MISTAKE_PREFIX}{mistake}" in text and text.count(squash(hint)) == 1
