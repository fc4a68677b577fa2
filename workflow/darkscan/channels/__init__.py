"""Plugin modules of searches: ``darkscan/channels/<name>.py``, one per search that needs its own
processes, variable functions, models, fit methods or stages.

Every module here is imported by :func:`darkscan.plugins.load_plugins` before any registry is
read (processes, variable functions, models, fit methods, stages), so a search registers its
pieces with the usual decorators and functions and is listed in no generic file.
"""
