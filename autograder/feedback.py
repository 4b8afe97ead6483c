"""Feedback pages that run nothing: a graded notebook as one self-contained, inert HTML page.

A page holds the title (assignment and student), the total, a table of contents of the graded
cells (each linked to its verdict, named by its grade_id and what it checks: the first
paragraph of the test cell's docstring, or the master's when the notebook is not shown), then
the notebook with the verdict under each graded test cell. A verdict gives the points, the
status, the id of the named mistake that matched (``mistake: <id>``, grades.csv's
``mistake``), and the message with the mistake's hint. The hidden tests' source and the test
cells' outputs are never shown. Every message, code line, table, image and formula wraps or
scrolls inside its own box: the page is never wider than the window. Everything a student
wrote is shown as text:

- markdown is rendered by mistune with raw HTML escaped; links are never live (their text is
  shown with the address beside it as text), images load only from the cell's own PNG/JPEG
  attachments; the only links of a page are its table of contents (``#check-N``);
- TeX (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``, ``\\begin{env}...\\end{env}``) is taken
  out of the markdown before it is rendered and converted to MathML by latex2mathml, whose
  element tree is rebuilt here from an allow-list of MathML elements and attributes; a
  formula it cannot convert is shown as its TeX in ``<code>``;
- code cells and text outputs are escaped ``<pre>`` (ANSI codes and control characters
  removed); ``image/png`` and ``image/jpeg`` outputs are shown only when their base64 decodes
  to a real PNG/JPEG; HTML, SVG, JavaScript, markdown and every other kind of output is shown
  as escaped text (or named in a note when it is not text);
- the page has no ``<script>``, no external address of any kind, inline CSS only, and a
  Content-Security-Policy that forbids scripts, frames, forms and loads except ``data:`` images.

Before a page is returned, each part of its body (each cell, the header and contents) is
walked with an HTML parser against an allow-list of tags and attributes; a cell that fails (a
bug here, never expected) is replaced by a note, a header that fails by the rows-only page,
which is also what a submission that could not be graded gets.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import mistune
import nbformat
from latex2mathml.converter import convert_to_element
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

__all__ = ["render_feedback", "write_feedback", "tex_to_mathml", "find_math", "check_body"]

#: The page's policy: nothing runs, nothing loads except the page's own data: images.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
       "form-action 'none'; base-uri 'none'")

MAX_TEXT = 20_000          # characters of one output or traceback shown
MAX_HIGHLIGHT = 50_000     # code cells longer than this are shown without colours
MAX_IMAGE = 8 * 2**20      # bytes of one image shown
MAX_MARKDOWN = 20_000      # markdown cells longer than this are shown as plain text
MAX_FORMULA = 1_000        # characters of one formula (bounds the search for its end)
# What one page may format at most; past it, text is shown plain (a master needs a fifth).
MAX_MARKDOWN_PAGE = 100_000  # characters of markdown
MAX_HIGHLIGHT_PAGE = 80_000  # characters of coloured code (pygments: ~50,000 a second)
MAX_FORMULAS_PAGE = 2_000    # formulas converted to MathML
LONG_INLINE_FORMULA = 60     # TeX characters past which an inline formula scrolls in its box
MISTAKE_PREFIX = "mistake: "
"""Shown before a named mistake's id (grades.csv's `mistake`), to quote and to count."""
HIDDEN_TESTS = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS.*?(?:^[ \t]*### END HIDDEN TESTS[^\n]*\n?|\Z)", re.S | re.M)
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
DOCSTRING = re.compile(r"\A\s*(?:#[^\n]*\n\s*)*[rRuU]?(\"\"\"|''')(.*?)(?:\1|\Z)", re.S)


# ---------------------------------------------------------------- text helpers


def _clean(text: Any) -> str:
    """Text of a notebook field without ANSI escapes or control characters (lists are joined)."""
    if isinstance(text, list):
        text = "".join(str(part) for part in text)
    return CONTROL.sub("", ANSI.sub("", str(text)))


def _esc(text: Any) -> str:
    return html.escape(_clean(text), quote=True)


def _visible(text: Any) -> str:
    """Escaped text with invisible and direction-changing characters shown as ‹U+XXXX›."""
    out = []
    for char in str(text):
        if unicodedata.category(char) in ("Cc", "Cf", "Co", "Cn", "Zl", "Zp", "Cs"):
            out.append(f"‹U+{ord(char):04X}›")
        else:
            out.append(char)
    return html.escape("".join(out), quote=True)


def _truncated(text: str, limit: int = MAX_TEXT) -> str:
    if len(text) <= limit:
        return _esc(text)
    return (_esc(text[:limit])
            + f'\n<span class="note">… {len(text) - limit} more characters not shown</span>')


# ---------------------------------------------------------------- math


_MATHML_TAGS = frozenset(
    "math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mover munder "
    "munderover mtable mtr mtd mlabeledtr mstyle menclose mpadded mphantom merror "
    "mmultiscripts mprescripts none semantics".split())
_MATHML_ATTRIBUTES = frozenset(
    "display mathvariant stretchy fence separator lspace rspace width height depth linebreak "
    "columnalign rowalign columnspacing rowspacing columnlines rowlines frame framespacing "
    "displaystyle scriptlevel accent accentunder movablelimits largeop symmetric minsize "
    "maxsize notation linethickness form bevelled mathsize voffset denomalign numalign "
    "equalrows equalcolumns columnspan rowspan".split())
_ATTRIBUTE_VALUE = re.compile(r"[A-Za-z0-9 .#%+\-]{0,64}")


def _mathml(element: Element) -> str:
    """Serialise a latex2mathml tree from allow-lists; raise ValueError on anything else."""
    tag = element.tag
    if tag not in _MATHML_TAGS:
        raise ValueError(f"element {tag!r} is not allowed")
    attributes = ""
    for name, value in element.attrib.items():
        value = html.unescape(str(value))
        if name in _MATHML_ATTRIBUTES and _ATTRIBUTE_VALUE.fullmatch(value):
            attributes += f' {name}="{html.escape(value, quote=True)}"'
    text = html.unescape(element.text or "")
    if tag in ("mi", "mo") and len(text) > 1 and text.startswith("\\"):
        raise ValueError(f"unknown command {text}")
    inner = html.escape(_clean(text), quote=True)
    children = list(element)
    for position, child in enumerate(children):
        following = children[position + 1] if position + 1 < len(children) else None
        inner += _mathml(child)
        if child.tail:
            inner += html.escape(_clean(html.unescape(child.tail)), quote=True)
        elif _is_function_name(child) and following is not None and following.tag != "mo":
            inner += '<mspace width="0.1667em"></mspace>'  # TeX's thin space: "log x"
    return f"<{tag}{attributes}>{inner}</{tag}>"


def _is_function_name(element: Element) -> bool:
    """Whether `element` is a function's name such as log or exp (an upright word)."""
    text = element.text or ""
    return element.tag == "mi" and len(text) > 1 and text.isalpha() and not len(element)


@functools.lru_cache(maxsize=4096)
def tex_to_mathml(tex: str, display: bool = False) -> str | None:
    """MathML for the formula `tex`, built only from allowed MathML; None when it cannot be
    converted (latex2mathml fails, or leaves a command it does not know)."""
    try:
        tree = convert_to_element(tex, display="block" if display else "inline")
        return _mathml(tree)
    except Exception:  # latex2mathml raises many kinds on bad TeX
        return None


# Every search for a closing delimiter is bounded (N characters), so that a cell of openers
# without closers costs O(length * N), not O(length**2).
_MATH_OR_CODE = re.compile(r"""
    (?P<fence>^[ ]{0,3}(?P<f>`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}(?P=f)[ \t]*$|\Z))
  | (?P<code>(?P<ticks>`+)(?!`).{1,MAXF}?(?<!`)(?P=ticks)(?!`))
  | (?P<escaped>\\[\\$])
  | \$\$(?P<dd>.{1,MAXF}?)\$\$
  | \\\[(?P<bracket>.{1,MAXF}?)\\\]
  | \\\((?P<paren>.{1,MAXF}?)\\\)
  | (?P<env>\\begin\{(?P<envname>[A-Za-z]{1,20}\*?)\}.{0,MAXF}?\\end\{(?P=envname)\})
  | \$(?P<d>(?:[^$\n\\]|\\.|\n(?![ \t]*\n)){1,MAXF}?)\$
""".replace("MAXF", str(MAX_FORMULA)), re.S | re.M | re.X)


def find_math(markdown: str) -> list[tuple[str, bool]]:
    """Every formula of a markdown text outside code, as (TeX, is display math)."""
    found = []
    for match in _MATH_OR_CODE.finditer(markdown):
        formula = _formula(match)
        if formula:
            found.append(formula)
    return found


def _formula(match: re.Match) -> tuple[str, bool] | None:
    if match["dd"] is not None:
        return match["dd"], True
    if match["bracket"] is not None:
        return match["bracket"], True
    if match["env"] is not None:
        return match["env"], True
    if match["paren"] is not None:
        return match["paren"], False
    if match["d"] is not None:
        return match["d"], False
    return None


def _math_html(tex: str, display: bool) -> str:
    """A formula's MathML in a box that scrolls when the formula is wider than the page
    (display formulas, and inline ones longer than LONG_INLINE_FORMULA), else its TeX."""
    converted = tex_to_mathml(tex.strip(), display)
    if converted is None:
        return _tex_code(tex, display)
    if display:
        return f'<span class="math-display">{converted}</span>'
    if len(tex) > LONG_INLINE_FORMULA:
        return f'<span class="math-long">{converted}</span>'
    return converted


def _tex_code(tex: str, display: bool) -> str:
    delimiter = "$$" if display else "$"
    return f'<code class="tex">{_esc(delimiter + tex + delimiter)}</code>'


# ---------------------------------------------------------------- markdown


class _InertRenderer(mistune.HTMLRenderer):
    """mistune's HTML renderer with raw HTML escaped, no live links and no outside images."""

    def __init__(self) -> None:
        super().__init__(escape=True)
        self.attachments: Mapping[str, Any] = {}

    def link(self, text: str, url: str, title: str | None = None) -> str:
        shown = html.unescape(re.sub(r"<[^>]*>", "", text))
        if shown.strip() == url.strip():
            return f'<span class="link">{text}</span>'
        return f'<span class="link">{text}</span> <span class="url">({_esc(url)})</span>'

    def image(self, text: str, url: str, title: str | None = None) -> str:
        if url.startswith("attachment:"):
            bundle = self.attachments.get(url[len("attachment:"):])
            # the alt text: no markup, no formula (a formula's MathML cannot go in an attribute)
            alt = html.unescape(_PLACEHOLDER.sub("", re.sub(r"<[^>]*>", "", text)))
            if isinstance(bundle, Mapping):
                for mime in ("image/png", "image/jpeg"):
                    tag = _image(mime, bundle.get(mime), alt=alt)
                    if tag:
                        return tag
        return f'<span class="note">[image: {text} ({_esc(url)}) not shown]</span>'

    def text(self, text: str) -> str:
        return _esc(html.unescape(text))

    def block_code(self, code: str, info: str | None = None) -> str:
        return f"<pre class=\"md-code\"><code>{_esc(code)}</code></pre>\n"

    def heading(self, text: str, level: int, **attrs: Any) -> str:
        return f"<h{level + 1 if level < 6 else 6}>{text}</h{level + 1 if level < 6 else 6}>\n"


@dataclass
class _Budget:
    """What one page may still spend on formatting."""

    markdown: int = MAX_MARKDOWN_PAGE
    code: int = MAX_HIGHLIGHT_PAGE
    formulas: int = MAX_FORMULAS_PAGE


_PLACEHOLDER = re.compile(r"mathph[0-9a-f]{12}x\d+z")


def _markdown(source: str, attachments: Mapping[str, Any], render: mistune.Markdown,
              budget: _Budget) -> str:
    """HTML of a markdown cell: formulas out first, markdown rendered, formulas back in."""
    token = "mathph" + secrets.token_hex(6) + "x"  # matches _PLACEHOLDER
    formulas: list[str] = []

    def take(match: re.Match) -> str:
        formula = _formula(match)
        if formula is None:
            return match[0]
        budget.formulas -= 1
        if budget.formulas >= 0:
            formulas.append(_math_html(*formula))
        else:
            formulas.append(_tex_code(*formula))
        return f"{token}{len(formulas) - 1}z"

    text = _MATH_OR_CODE.sub(take, _clean(source))
    render.renderer.attachments = attachments if isinstance(attachments, Mapping) else {}
    # a table wider than the page scrolls in its own box (raw HTML is escaped: every
    # <table> here is one mistune made)
    rendered = render(text).replace("<table>", '<div class="table-box"><table>').replace(
        "</table>", "</table></div>")
    return re.sub(token + r"(\d+)z", lambda m: formulas[int(m[1])], rendered)


def _markdown_parser() -> mistune.Markdown:
    return mistune.create_markdown(renderer=_InertRenderer(), plugins=["strikethrough", "table"])


# ---------------------------------------------------------------- outputs


_SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _image(mime: str, data: Any, alt: str = "") -> str | None:
    """An <img> of base64 `data` when it decodes to a real image of `mime`, else None."""
    if not isinstance(data, (str, list)) or mime not in _SIGNATURES:
        return None
    text = "".join(data) if isinstance(data, list) else data
    if len(text) > MAX_IMAGE * 4 // 3 + 16:
        return None
    try:
        raw = base64.b64decode(re.sub(r"\s+", "", text), validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw.startswith(_SIGNATURES[mime]):
        return None
    encoded = base64.b64encode(raw).decode("ascii")
    return f'<img alt="{html.escape(alt, quote=True)}" src="data:{mime};base64,{encoded}">'


def _rich_output(output: Mapping[str, Any]) -> str:
    data = output.get("data")
    if not isinstance(data, Mapping):
        return '<div class="note">an output without data</div>'
    for mime in ("image/png", "image/jpeg"):
        if mime in data:
            tag = _image(mime, data[mime])
            if tag:
                return f'<div class="output image">{tag}</div>'
    notes = []
    if any(mime in data for mime in _SIGNATURES):
        notes.append("an image that is not valid PNG/JPEG data was not shown")
    if "text/plain" in data:
        body = f'<pre class="output">{_truncated(_clean(data["text/plain"]))}</pre>'
    else:
        mime = next(iter(data), None)
        value = data.get(mime) if mime else None
        if isinstance(value, (str, list)):
            notes.append(f"output of type {_esc(mime)}, shown as text")
            body = f'<pre class="output">{_truncated(_clean(value))}</pre>'
        else:
            notes.append(f"output of type {_esc(mime)} not shown")
            body = ""
    return "".join(f'<div class="note">{note}</div>' for note in notes) + body


def _output(output: Any) -> str:
    if not isinstance(output, Mapping):
        return '<div class="note">an unreadable output</div>'
    kind = output.get("output_type")
    if kind == "stream":
        name = "stderr" if output.get("name") == "stderr" else "stdout"
        return f'<pre class="output {name}">{_truncated(_clean(output.get("text", "")))}</pre>'
    if kind in ("execute_result", "display_data", "update_display_data"):
        return _rich_output(output)
    if kind == "error":
        head = f'{_esc(output.get("ename", ""))}: {_esc(output.get("evalue", ""))}'
        trace = _clean("\n".join(str(line) for line in output.get("traceback") or []))
        block = f'<pre class="output error"><strong>{head}</strong></pre>'
        if trace.strip():
            block += (f'<details><summary>traceback</summary><pre class="output error">'
                      f'{_truncated(trace)}</pre></details>')
        return block
    return f'<div class="note">output of kind {_esc(kind)} not shown</div>'


# ---------------------------------------------------------------- cells and rows


def _field(row: Any, name: str, default: Any = "") -> Any:
    if isinstance(row, Mapping):
        return row.get(name, default)
    return getattr(row, name, default)


def _number(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if number == number and abs(number) != float("inf") else 0.0


def _description(source: str, grade_id: str) -> str:
    """What a test cell checks: the first paragraph of its docstring, without its grade_id."""
    match = DOCSTRING.match(source[:4000])
    if not match:
        return ""
    summary = " ".join(match[2].strip().split("\n\n")[0].split())
    prefix = f"{grade_id}:"
    return summary[len(prefix):].strip() if summary.startswith(prefix) else summary


def _grade_id(cell: Any) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, Mapping) else {}
    if isinstance(meta, Mapping) and meta.get("grade") is True and cell.get("cell_type") == "code":
        grade_id = meta.get("grade_id")
        return grade_id if isinstance(grade_id, str) else None
    return None


def _verdict(row: Any, anchor: str | None = None, assignment: str = "") -> str:
    """The box of one grade row: points, check, status, then the mistake's id and the
    message (with the mistake's hint when the message does not already hold it)."""
    score, points = _number(_field(row, "score")), _number(_field(row, "max_score"))
    status = str(_field(row, "status"))
    kind = "ok" if status == "ok" and score >= points else ("partial" if score > 0 else "failed")
    anchor_attr = f' id="{anchor}"' if anchor else ""
    message = str(_field(row, "message") or "")
    mistake = str(_field(row, "mistake") or "")
    parts = [f'<div class="verdict {kind}"{anchor_attr}><div class="verdict-head">'
             f'<strong>{score:g} / {points:g}</strong> <code>{_visible(_field(row, "grade_id"))}'
             f'</code> <span class="status">{_visible(status)}</span>']
    if mistake:
        parts.append(f' <code class="mistake">{MISTAKE_PREFIX}{_visible(mistake)}</code>')
    parts.append("</div>")
    if message:
        parts.append(f'<div class="message">{_truncated(message)}</div>')
    hint = _hint(assignment, str(_field(row, "grade_id")), mistake) if mistake else None
    if hint and hint not in message:
        parts.append(f'<div class="message hint">{_esc(hint)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _hint(assignment: str, grade_id: str, mistake: str) -> str | None:
    """The declared hint of named `mistake` of a check, None when the course declares none."""
    try:
        from autograder.exercises import ASSIGNMENTS, exercises  # the course's declarations

        if assignment not in ASSIGNMENTS:
            return None
        hint = exercises(assignment)[grade_id].mistakes[mistake]
    except Exception:  # no such check or mistake, or declarations that cannot be read
        return None
    return hint if isinstance(hint, str) else None


_LEXER = PythonLexer()
_FORMATTER = HtmlFormatter(nowrap=True)


@functools.lru_cache(maxsize=2048)
def _code_html(source: str) -> str:
    """Escaped, coloured code (cached: a class's notebooks share most of their code)."""
    return highlight(source, _LEXER, _FORMATTER)


def _code(source: str, budget: _Budget) -> str:
    if len(source) > min(MAX_HIGHLIGHT, budget.code):
        return _esc(source)
    budget.code -= len(source)
    return _code_html(source)


def _cell(cell: Any, render: mistune.Markdown, graded: Mapping[str, str],
          budget: _Budget) -> str:
    """HTML of one cell, spending from the page's formatting `budget`; a graded test cell
    (its grade_id in `graded`) is followed by its verdict box, `graded[grade_id]`."""
    if not isinstance(cell, Mapping):
        return '<div class="note">an unreadable cell</div>'
    kind = cell.get("cell_type")
    # Any cell may carry a copy of a hidden test (a duplicated test cell loses its grade_id);
    # its outputs (tracebacks quote the source) are not shown either.
    source = _clean(cell.get("source", ""))
    ran_hidden_tests = HIDDEN_TESTS.search(source) is not None
    source = HIDDEN_TESTS.sub("", source)
    if kind == "markdown":
        if len(source) > min(MAX_MARKDOWN, budget.markdown):
            return (f'<div class="cell markdown"><div class="note">a markdown cell of '
                    f'{len(source)} characters, shown as plain text</div>'
                    f'<pre class="md-code">{_truncated(source, 2 * MAX_MARKDOWN)}</pre></div>')
        budget.markdown -= len(source)
        return (f'<div class="cell markdown">'
                f'{_markdown(source, cell.get("attachments") or {}, render, budget)}</div>')
    if kind != "code":
        return f'<div class="cell raw"><pre>{_esc(source)}</pre></div>'
    grade_id = _grade_id(cell)
    if grade_id in graded:
        source = source.rstrip() + "\n"
        return (f'<div class="cell code test"><pre class="source">{_code(source, budget)}</pre>'
                f'{graded[grade_id]}</div>')
    outputs = cell.get("outputs") or []
    if ran_hidden_tests:
        outputs = []
    shown = "".join(_output(o) for o in outputs) if isinstance(outputs, list) else ""
    return (f'<div class="cell code"><pre class="source">{_code(source, budget)}</pre>'
            f'{shown}</div>')


# ---------------------------------------------------------------- the page


_PYGMENTS_CSS = HtmlFormatter().get_style_defs(".source")
_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d1d1f;
       margin: 0; background: #f6f6f4; }
main { max-width: 1000px; margin: 0 auto; padding: 1.5em 2em 4em; background: #fff;
       overflow-wrap: anywhere; }
h1 { font-size: 1.6em; margin: 0 0 .3em; overflow-wrap: anywhere; }
.total { font-size: 1.25em; margin: .2em 0 1em; }
.note { color: #6b6b6b; font-style: italic; font-size: .9em; }
table.toc { border-collapse: collapse; width: 100%; margin-bottom: 2em; }
table.toc td, table.toc th { border-bottom: 1px solid #ddd; padding: .35em .5em; text-align: left;
       vertical-align: top; overflow-wrap: anywhere; }
table.toc .points, table.toc .status { white-space: nowrap; overflow-wrap: normal; }
table.toc td.points { text-align: right; }
.cell { margin: .8em 0; overflow-wrap: anywhere; unicode-bidi: isolate; }
.table-box { max-width: 100%; overflow-x: auto; margin: .5em 0; }
.cell.markdown table { border-collapse: collapse; }
.cell.markdown td, .cell.markdown th { border: 1px solid #ccc; padding: .2em .5em; }
pre { font: 13px/1.45 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; margin: 0;
      white-space: pre-wrap; overflow-wrap: anywhere; }
pre.source { background: #f5f7fa; border: 1px solid #e1e4e8; border-radius: 4px; padding: .6em .8em;
       white-space: pre; overflow-wrap: normal; overflow-x: auto; }
pre.output, pre.md-code { white-space: pre-wrap; overflow-wrap: anywhere; padding: .4em .8em; }
pre.md-code { background: #f5f7fa; }
pre.stderr { background: #fff5f5; }
pre.error { background: #fdecea; color: #8a1c1c; }
details { margin: 0 .8em; }
img { max-width: 100%; height: auto; }
.url { color: #555; font-size: .9em; overflow-wrap: anywhere; }
.link { text-decoration: underline dotted; }
code.tex { background: #fff8e1; }
math { font-family: "STIX Two Math", "Cambria Math", "Latin Modern Math", "DejaVu Math TeX Gyre",
       math; }
.math-display { display: block; max-width: 100%; overflow-x: auto; overflow-y: hidden;
       padding: .3em 0; }
.math-long { display: inline-block; max-width: 100%; overflow-x: auto; overflow-y: hidden;
       vertical-align: middle; }
.verdict { border: 1px solid; border-left-width: 6px; border-radius: 4px; padding: .5em .8em;
       margin: .4em 0 1.2em; }
.verdict.ok { border-color: #2e7d32; background: #edf7ee; }
.verdict.partial { border-color: #b26a00; background: #fff6e5; }
.verdict.failed { border-color: #c62828; background: #fdecea; }
.verdict .status { font-family: ui-monospace, monospace; font-size: .9em; }
.verdict code.mistake { background: #fff; border: 1px solid currentColor; border-radius: 3px;
       padding: 0 .3em; overflow-wrap: anywhere; }
.verdict .hint { font-style: italic; }
.verdict .message { white-space: pre-wrap; overflow-wrap: anywhere; margin-top: .3em; }
"""


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{title}</title><style>{_CSS}{_PYGMENTS_CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")


def _header(student: str, assignment: str, rows: list) -> tuple[str, str]:
    score = sum(_number(_field(r, "score")) for r in rows)
    points = sum(_number(_field(r, "max_score")) for r in rows)
    title = f"{_visible(assignment)}: feedback for {_visible(student)}"
    head = (f"<h1>{_visible(assignment)}: feedback for <bdi>{_visible(student)}</bdi></h1>"
            f'<p class="total">Total: <strong>{score:g} / {points:g}</strong> points</p>')
    return title, head


def _readable(grade_id: str) -> str:
    """'backward reset' for 'test_backward_reset'."""
    words = re.sub(r"^test_?", "", grade_id).replace("_", " ").strip()
    return words or grade_id


def _anchor(index: int) -> str:
    """The id of the verdict box of row `index` (0-based), which the contents link to."""
    return f"check-{index + 1}"


def _toc(rows: list, descriptions: Mapping[int, str], missing: frozenset[int] = frozenset()
         ) -> str:
    """The table of contents: per row a link to its verdict box, named by its grade_id and
    what it checks (the grade_id's words when nothing says), its points and status; rows
    in `missing` are noted as checks not found in the notebook."""
    lines = []
    for index, row in enumerate(rows):
        grade_id = str(_field(row, "grade_id"))
        what = descriptions.get(index) or _readable(grade_id)
        name = f'<a href="#{_anchor(index)}"><code>{_visible(grade_id)}</code></a>: {_esc(what)}'
        if index in missing:
            name += ' <span class="note">(not found in your notebook)</span>'
        lines.append(
            f"<tr><td>{name}</td>"
            f'<td class="points">{_number(_field(row, "score")):g} / '
            f'{_number(_field(row, "max_score")):g}</td>'
            f'<td class="status">{_visible(_field(row, "status"))}</td></tr>')
    return ('<table class="toc"><thead><tr><th>Graded check</th><th class="points">Points</th>'
            '<th class="status">Status</th>'
            f'</tr></thead><tbody>{"".join(lines)}</tbody></table>')


def _rows_only(student: str, assignment: str, rows: list, reason: str) -> str:
    title, head = _header(student, assignment, rows)
    boxes = "".join(_verdict(row, _anchor(index), assignment) for index, row in enumerate(rows))
    described = _master_descriptions(assignment)
    descriptions = {index: described[str(_field(row, "grade_id"))]
                    for index, row in enumerate(rows)
                    if described.get(str(_field(row, "grade_id")))}
    body = f'{head}<p class="note">{_esc(reason)}</p>{_toc(rows, descriptions)}{boxes}'
    try:
        return _page(title, _inert(body))
    except ValueError:  # never expected: every field is escaped
        return _page("feedback", "<p>This page could not be shown; your grades are in the "
                     "course's grade list.</p>")


def _master_descriptions(assignment: str) -> dict[str, str]:
    """{grade_id: what it checks} of the master's test cells ({} for no known assignment)."""
    from autograder.course import assignments, master_path  # where the masters are

    if assignment not in assignments():
        return {}
    path = master_path(assignment)
    try:
        version = path.stat().st_mtime_ns
    except OSError:
        return {}
    return dict(_described_cells(str(path), version))


@functools.lru_cache(maxsize=16)
def _described_cells(path: str, mtime_ns: int) -> tuple[tuple[str, str], ...]:
    """((grade_id, description), ...) of a notebook's test cells (read once per version)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:  # a master that cannot be read only costs the descriptions
        return ()
    found = []
    for cell in nb.cells:
        grade_id = _grade_id(cell)
        if grade_id:
            found.append((grade_id, _description(HIDDEN_TESTS.sub("", _clean(cell.source)),
                                                 grade_id)))
    return tuple(found)


def _notebook_body(nb: Any, rows: list,
                   assignment: str) -> tuple[str, dict[int, str], dict[int, str]]:
    cells = nb.get("cells") if isinstance(nb, Mapping) else None
    if not isinstance(cells, list):
        raise ValueError("the notebook has no list of cells")
    index_of = {}
    for index, row in enumerate(rows):
        index_of.setdefault(str(_field(row, "grade_id")), index)
    graded: dict[str, str] = {}
    anchors: dict[int, str] = {}
    described = _master_descriptions(assignment)
    descriptions = {index: described[grade_id] for grade_id, index in index_of.items()
                    if described.get(grade_id)}
    for cell in cells:
        grade_id = _grade_id(cell)
        if grade_id in index_of and grade_id not in graded:
            index = index_of[grade_id]
            anchors[index] = _anchor(index)
            graded[grade_id] = _verdict(rows[index], anchors[index], assignment)
            own = _description(HIDDEN_TESTS.sub("", _clean(cell.get("source", ""))), grade_id)
            if own:
                descriptions[index] = own
    render = _markdown_parser()
    parts = []
    budget = _Budget()
    for cell in cells:
        try:
            parts.append(_inert(_cell(cell, render, graded, budget)))
        except Exception as error:  # one odd cell must not cost the whole page
            name = _esc(type(error).__name__)
            parts.append(f'<div class="note">a cell could not be shown ({name})</div>')
    return "".join(parts), anchors, descriptions


def render_feedback(nb: nbformat.NotebookNode | None, *, student: str, assignment: str,
                    rows: list[dict] | list) -> str:
    """A complete, self-contained, inert HTML feedback page.

    `rows` are the submission's grade rows (mappings or objects with grade_id, score,
    max_score, status, message), in the order of the table of contents. With `nb` None (the
    submission could not be run) the page shows the rows only. Never raises for anything a
    notebook holds: a cell that cannot be shown becomes a note, a notebook that cannot be
    shown at all gives the rows-only page with a note.
    """
    rows = list(rows)
    if nb is None:
        return _rows_only(student, assignment, rows,
                          "Your notebook could not be graded, so it is not shown here; "
                          "the reason is in the message of each check below.")
    try:
        notebook, anchors, descriptions = _notebook_body(nb, rows, assignment)
        missing = frozenset(index for index in range(len(rows)) if index not in anchors)
        boxes = "".join(_verdict(rows[index], _anchor(index), assignment)
                        for index in sorted(missing))
        if boxes:
            boxes = "<h2>Checks not found in your notebook</h2>" + boxes
        title, head = _header(student, assignment, rows)
        top = _inert(f"{head}{_toc(rows, descriptions, missing)}{boxes}")
    except Exception as error:
        return _rows_only(student, assignment, rows,
                          f"Your notebook could not be shown on this page ({error}); "
                          "the grades are below.")
    return _page(title, f"{top}<h2>Your notebook</h2>{notebook}")


def write_feedback(path: str | os.PathLike, nb: nbformat.NotebookNode | None, *, student: str,
                   assignment: str, rows: list[dict] | list) -> None:
    """Write the page of `render_feedback` to `path` atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = render_feedback(nb, student=student, assignment=assignment, rows=rows)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- the allow-list guard


_TAGS = frozenset(
    "h1 h2 h3 h4 h5 h6 p div span a pre code em strong del s ul ol li blockquote hr br table "
    "thead tbody tr th td img details summary bdi sup sub".split()) | _MATHML_TAGS
_CLASS = re.compile(r"[A-Za-z0-9 _-]{0,80}")
_ATTRIBUTE_RULES = {
    "class": _CLASS.fullmatch,
    "id": re.compile(r"check-\d+").fullmatch,
    "href": re.compile(r"#check-\d+").fullmatch,
    "src": re.compile(r"data:image/(?:png|jpeg);base64,[A-Za-z0-9+/]*={0,2}").fullmatch,
    "alt": lambda value: True,
    "start": re.compile(r"\d{1,9}").fullmatch,
    "style": re.compile(r"text-align:(?:left|right|center)").fullmatch,
}


class _Guard(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.problems: list[str] = []

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self.problems.append("a '<' that starts no allowed tag")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if tag in _MATHML_TAGS and name in _MATHML_ATTRIBUTES:
                if value is not None and _ATTRIBUTE_VALUE.fullmatch(value):
                    continue
            rule = _ATTRIBUTE_RULES.get(name)
            if rule is None or value is None or not rule(value):
                self.problems.append(f"attribute {name} on <{tag}>")

    handle_startendtag = handle_starttag

    def unknown_decl(self, data: str) -> None:
        self.problems.append("a declaration")

    def handle_pi(self, data: str) -> None:
        self.problems.append("a processing instruction")

    def handle_comment(self, data: str) -> None:
        self.problems.append("a comment")


def check_body(body: str) -> list[str]:
    """What in a page body is outside the allow-list of tags and attributes (empty: inert)."""
    guard = _Guard()
    guard.feed(body)
    guard.close()
    return guard.problems


@functools.lru_cache(maxsize=4096)
def _inert_cached(fragment: str) -> bool:
    return not check_body(fragment)


def _inert(fragment: str) -> str:
    """`fragment` when it passes the allow-list guard, else ValueError (small ones cached)."""
    ok = _inert_cached(fragment) if len(fragment) < 200_000 else not check_body(fragment)
    if not ok:
        raise ValueError("; ".join(check_body(fragment)[:3]))
    return fragment

