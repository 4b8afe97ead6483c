"""Interactive explorers: a figure redrawn whenever one of its controls moves.

An `Explorer` takes a drawing function and ipywidgets controls (sliders, drop-downs, check
boxes). `draw(fig, **values)` draws into a fresh matplotlib `Figure` with the controls'
current values; the explorer shows the figure as a PNG under the controls and redraws it
when any control changes.

Where a widget manager runs (JupyterLab, with ipywidgets 8) the controls are live. Where
none runs (nbconvert, the grader, a notebook viewer) the same output carries the figure at
the controls' initial values as an ordinary `image/png`, so the page still shows a plot.

A drawing function may call the student's own functions. When one of them is still a stub,
the explorer says so in one line ("softmax is not implemented yet: ...") in place of the
figure; any other error is shown in one line too, and moving a control tries again.

>>> import ipywidgets as widgets
>>> def draw(fig, a):
...     ax = fig.subplots()
...     ax.plot([0, 1], [0, a])
>>> explorer = Explorer(draw, a=widgets.FloatSlider(value=1.0, min=0.0, max=2.0))
>>> first = explorer.image.value
>>> explorer.controls["a"].value = 2.0
>>> explorer.image.value != first
True
>>> sorted(explorer._repr_mimebundle_())
['application/vnd.jupyter.widget-view+json', 'image/png', 'text/plain']
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets
from matplotlib.figure import Figure

from course_lib.failures import not_implemented, stub_name

DPI = 96
"""Resolution of the explorer's PNG: the notebook's own figure resolution."""


class Explorer:
    """Controls above a figure that `draw(fig, **values)` redraws when a control moves.

    Parameters
    ----------
    draw : callable
        ``draw(fig, **values)`` draws into the empty matplotlib Figure `fig`; `values`
        maps each control's name to its current value.
    figsize : (float, float), keyword-only
        The figure's size in inches.
    **controls : ipywidgets.ValueWidget
        The controls, by the keyword `draw` receives their values under.

    Attributes
    ----------
    controls : dict of str to ipywidgets.ValueWidget
    image : ipywidgets.Image
        The figure, as PNG bytes.
    message : ipywidgets.HTML
        Empty, or one line saying why there is no figure.
    widget : ipywidgets.VBox
        Controls, message and image: what the notebook shows.
    """

    def __init__(self, draw: Callable[..., Any], *, figsize: tuple[float, float] = (8.0, 3.5),
                 **controls: widgets.ValueWidget) -> None:
        if not controls:
            raise ValueError("an Explorer needs at least one control to move")
        self.draw, self.figsize, self.controls = draw, figsize, controls
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.message = widgets.HTML()
        for control in controls.values():
            control.style.description_width = "initial"
            control.observe(self._redraw, names="value")
        self.widget = widgets.VBox([widgets.HBox(list(controls.values()),
                                                 layout=widgets.Layout(flex_flow="row wrap")),
                                    self.message, self.image])
        self.widget.add_class("course-explorer")
        self._redraw()

    def values(self) -> dict[str, Any]:
        """{name: current value} of the controls."""
        return {name: control.value for name, control in self.controls.items()}

    def render(self) -> bytes:
        """The figure at the controls' current values, as PNG bytes."""
        fig = Figure(figsize=self.figsize, dpi=DPI, layout="constrained")
        self.draw(fig, **self.values())
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI)
        return buffer.getvalue()

    def _redraw(self, change: dict | None = None) -> None:
        try:
            png = self.render()
        except NotImplementedError as error:
            name = stub_name(error)
            self._say(not_implemented(name) if name else f"NotImplementedError: {error}")
        except Exception as error:  # the student's code: one line, and moving again retries
            self._say(f"the figure could not be drawn: {type(error).__name__}: {error}")
        else:
            self.message.value = ""
            self.image.value = png
            self.image.layout.display = None

    def _say(self, sentence: str) -> None:
        self.message.value = f"<b>✗</b> {_escape(sentence)}"
        self.image.layout.display = "none"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        """The live widget, plus the current figure as a static PNG for frontends without
        a widget manager."""
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude))
        if self.image.layout.display != "none" and self.image.value:
            bundle["image/png"] = base64.b64encode(self.image.value).decode("ascii")
        else:
            bundle["text/plain"] = self.message.value.replace("<b>✗</b> ", "✗ ")
        return bundle


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
