"""Helpers shared by the thin scripts in ``workflow/scripts`` (logging).

Scripts read their config from ``snakemake.params`` only (:mod:`darkscan.stage_inputs`)."""

from __future__ import annotations

import logging
import pathlib
import sys

from darkscan import progress


def setup_logging(log_path: str | None, *, level: int = logging.INFO) -> None:
    """Send ``logging`` output to the rule's log file (and stderr); log uncaught exceptions."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        pathlib.Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s", handlers=handlers, force=True
    )
    # matplotlib's font substitutions ("Substituting symbol \prime from STIXGeneral", 75 lines per
    # plot job) are not news for the analyst
    logging.getLogger("matplotlib").setLevel(max(level, logging.WARNING))
    # parallel jobs share the terminal and the log is a file: progress as whole lines, no bars
    progress.use_log_lines()

    def excepthook(kind, value, tb):
        logging.getLogger("darkscan").error("%s: %s", kind.__name__, value, exc_info=(kind, value, tb))

    sys.excepthook = excepthook
