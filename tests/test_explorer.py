"""Explorers: live controls where a widget manager runs, the figure itself everywhere else."""

import base64

import ipywidgets as widgets
import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import MarkdownExporter

from course_lib.explorer import Explorer

PNG = b"\x89PNG\r\n\x1a\n"


def _draw(fig, a, log):
    ax = fig.subplots()
    ax.plot([0.0, 1.0], [0.0, a])
    ax.set_yscale("log" if log else "linear")


def _explorer():
    return Explorer(_draw, a=widgets.FloatSlider(value=1.0, min=0.1, max=2.0),
                    log=widgets.Checkbox(value=False))


def test_moving_any_control_redraws_the_figure():
    explorer = _explorer()
    seen = {bytes(explorer.image.value)}
    explorer.controls["a"].value = 2.0
    seen.add(bytes(explorer.image.value))
    explorer.controls["log"].value = True
    seen.add(bytes(explorer.image.value))
    assert len(seen) == 3 and all(png.startswith(PNG) for png in seen)


def test_the_static_output_is_the_current_figure():
    explorer = _explorer()
    explorer.controls["a"].value = 0.5
    bundle = explorer._repr_mimebundle_()
    assert base64.b64decode(bundle["image/png"]) == explorer.image.value
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == \
        explorer.widget.model_id


def test_a_stub_is_named_in_one_line_and_moving_again_retries():
    state = {"written": False}

    def softmax(z):
        if not state["written"]:
            raise NotImplementedError
        return z

    def draw(fig, t):
        fig.subplots().plot(softmax([t, 1.0]))

    # the explorer names the stub only when it comes from a notebook cell
    draw.__code__ = draw.__code__.replace(co_filename="/tmp/ipykernel_1/cell.py")
    softmax.__code__ = softmax.__code__.replace(co_filename="/tmp/ipykernel_1/cell.py")
    explorer = Explorer(draw, t=widgets.FloatSlider(value=1.0))
    assert explorer.message.value.endswith("softmax is not implemented yet: write it in its "
                                           "cell (`def softmax`), run that cell, then run "
                                           "this one again")
    assert explorer.image.layout.display == "none"
    assert "image/png" not in explorer._repr_mimebundle_()
    state["written"] = True
    explorer.controls["t"].value = 2.0
    assert explorer.message.value == "" and bytes(explorer.image.value).startswith(PNG)
    assert explorer.image.layout.display is None


def test_any_other_error_is_one_line():
    def draw(fig, t):
        raise ValueError(f"t = {t} <b>")

    explorer = Explorer(draw, t=widgets.IntSlider(value=3))
    assert explorer.message.value == ("<b>✗</b> the figure could not be drawn: ValueError: "
                                      "t = 3 &lt;b&gt;")


def test_an_explorer_needs_a_control():
    with pytest.raises(ValueError, match="at least one control"):
        Explorer(_draw)


def test_nbconvert_shows_the_figure_without_a_widget_manager():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as widgets\n"
        "from tests.test_explorer import _explorer\n"
        "_explorer()")]
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    markdown, resources = MarkdownExporter().from_notebook_node(nb)
    figures = resources["outputs"]
    assert len(figures) == 1 and next(iter(figures.values())).startswith(PNG)
    assert next(iter(figures)) in markdown
