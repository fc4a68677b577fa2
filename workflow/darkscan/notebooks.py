"""Execute a parameterised notebook with papermill and render it to HTML (nbconvert)."""

from __future__ import annotations

import logging
import os
import pathlib

import nbformat
import papermill
from nbconvert import HTMLExporter

from darkscan import rootio

log = logging.getLogger(__name__)


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
        exporter = HTMLExporter()
        exporter.exclude_input = True
        body, _ = exporter.from_notebook_node(notebook)
        with rootio.atomic_path(out_html) as tmp_html:
            pathlib.Path(tmp_html).write_text(body)
    log.info("executed %s -> %s, %s", template, out_ipynb, out_html)
