"""Built-in processes: every module of this package is imported, and so registered
(``darkscan.generate.registry``); a new generator is a new module here, listed nowhere."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
