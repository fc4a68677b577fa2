"""Built-in processes. Importing this package registers them (see ``darkscan.generate.registry``)."""

from darkscan.generate.processes import eeee, qed, qed3, qed_mumu, qqbar, scalar, signals, tautau, tautau_qed, twophoton, zprime  # noqa: F401
