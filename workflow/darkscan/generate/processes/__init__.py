"""Built-in processes. Importing this package registers them (see ``darkscan.generate.registry``)."""

from darkscan.generate.processes import qed_mumu, tautau, twophoton, zprime  # noqa: F401
