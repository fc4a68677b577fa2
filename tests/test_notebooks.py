"""Notebooks executed by papermill and rendered to an HTML page that opens offline (darkscan.notebooks)."""

from __future__ import annotations

import base64
import io
import pathlib
import re

import nbformat
import pytest
from PIL import Image

from darkscan.notebooks import execute_notebook


def _template(path, *, fail: bool = False):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("bins = 10")
    parameters.metadata["tags"] = ["parameters"]
    plot = (
        "import matplotlib\nmatplotlib.use('module://matplotlib_inline.backend_inline')\n"
        "import matplotlib.pyplot as plt\nplt.hist(range(100), bins=bins)\nplt.show()"
    )
    nb.cells = [nbformat.v4.new_markdown_cell("# A page"), parameters, nbformat.v4.new_code_cell(plot)]
    if fail:
        nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('broken')"))
    nbformat.write(nb, path)
    return path


def test_the_page_has_no_cdn_scripts_and_palette_figures(tmp_path):
    out_nb, out_html = tmp_path / "out.ipynb", tmp_path / "out.html"
    execute_notebook(_template(tmp_path / "t.ipynb"), out_nb, out_html, parameters={"bins": 7})
    html = out_html.read_text()
    assert re.findall(r"<script[^>]+src=", html) == []  # nothing to fetch: require.js, MathJax, Mermaid left out
    assert "A page" in html and "bins = 7" not in html  # markdown shown, code cells hidden
    (png,) = [
        o["data"]["image/png"] for c in nbformat.read(out_nb, 4).cells for o in c.get("outputs", []) if "data" in o
    ]
    assert Image.open(io.BytesIO(base64.b64decode(png))).mode == "P"  # the compact palette PNG
    assert png in html


def test_a_failing_notebook_leaves_no_output(tmp_path):
    out_nb, out_html = tmp_path / "out.ipynb", tmp_path / "out.html"
    with pytest.raises(Exception, match="broken"):
        execute_notebook(_template(tmp_path / "t.ipynb", fail=True), out_nb, out_html, parameters={})
    assert not out_nb.exists() and not out_html.exists()


def test_validation_legends_keep_the_sample_labels():
    """The data/MC legends use the configured sample labels: the template binds ``labels`` once, from
    the channel's backgrounds (a later ``labels = val.column_labels(...)`` once replaced them by the
    raw sample names)."""
    template = nbformat.read(pathlib.Path(__file__).parents[1] / "notebooks" / "validation.ipynb", as_version=4)
    bindings = [
        line
        for cell in template.cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if re.match(r"labels\s*=", line)  # a top-level binding, not the keyword argument
    ]
    assert len(bindings) == 1 and 'channel_config["backgrounds"]' in bindings[0], bindings
