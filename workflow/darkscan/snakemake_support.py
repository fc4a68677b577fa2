"""Helpers shared by the thin scripts in ``workflow/scripts`` (logging, resolved configs)."""

from __future__ import annotations

import logging
import pathlib
import sys

from darkscan import config as cfg


def setup_logging(log_path: str | None, *, level: int = logging.INFO) -> None:
    """Send ``logging`` output to the rule's log file (and stderr); log uncaught exceptions."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        pathlib.Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s: %(message)s", handlers=handlers, force=True)

    def excepthook(kind, value, tb):
        logging.getLogger("darkscan").error("%s: %s", kind.__name__, value, exc_info=(kind, value, tb))

    sys.excepthook = excepthook


def channel_and_experiment(config, channel: str) -> tuple[dict, dict]:
    """The validated channel config and its experiment config."""
    plain = cfg.as_plain(config)
    channel_config = cfg.channel_config(plain, channel)
    return channel_config, cfg.experiment_config(plain, channel_config["experiment"])
