"""Execute a parameterised notebook with papermill and render it to HTML (nbconvert)."""

from __future__ import annotations

import base64
import logging
import os
import pathlib

import nbformat
import papermill
from nbconvert import HTMLExporter

from darkscan import rootio
from darkscan.images import compact_png

log = logging.getLogger(__name__)

#: nbconvert template of the HTML: JupyterLab's without the scripts it loads from CDNs, so the
#: page opens offline (templates/nbconvert_offline)
TEMPLATES = pathlib.Path(__file__).resolve().parent / "templates"
OFFLINE_TEMPLATE = "nbconvert_offline"


def compact_figures(notebook: nbformat.NotebookNode) -> int:
    """Rewrite every PNG output of ``notebook`` with :func:`darkscan.images.compact_png` (in
    place); returns how many bytes of base64 that saved."""
    saved = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "image/png" in data:
                before = data["image/png"]
                data["image/png"] = base64.b64encode(compact_png(base64.b64decode(before))).decode()
                saved += len(before) - len(data["image/png"])
    return saved


def execute_notebook(
    template: str | os.PathLike,
    out_ipynb: str | os.PathLike,
    out_html: str | os.PathLike,
    *,
    parameters: dict,
    cwd: str | os.PathLike = ".",
) -> None:
    """Run ``template`` with ``parameters`` into ``out_ipynb`` and render ``out_html`` (no input cells).

    Both outputs are written atomically: a failing notebook leaves neither behind.
    """
    with rootio.atomic_path(out_ipynb) as tmp_nb:
        papermill.execute_notebook(
            str(template), str(tmp_nb), parameters=parameters, kernel_name="python3", progress_bar=False, cwd=str(cwd)
        )
        notebook = nbformat.read(tmp_nb, as_version=4)
        compact_figures(notebook)
        nbformat.write(notebook, tmp_nb)
        exporter = HTMLExporter(extra_template_basedirs=[str(TEMPLATES)], template_name=OFFLINE_TEMPLATE)
        exporter.exclude_input = True
        body, _ = exporter.from_notebook_node(notebook)
        with rootio.atomic_path(out_html) as tmp_html:
            pathlib.Path(tmp_html).write_text(body)
    log.info("executed %s -> %s, %s", template, out_ipynb, out_html)
