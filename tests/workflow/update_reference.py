"""Write tests/workflow/reference/tiny_limits.csv from a tiny build (the regression reference).

Run after a deliberate change of the tiny overlay's numbers, and say why in the commit::

    snakemake --cores 2 --configfile tests/configs/tiny.yaml results/zprime_invisible/limits.csv
    python tests/workflow/update_reference.py results/zprime_invisible/limits.csv
"""

from __future__ import annotations

import pathlib
import sys

import pandas as pd

REFERENCE = pathlib.Path(__file__).resolve().parent / "reference" / "tiny_limits.csv"
#: the columns the regression test pins: the grid, the limits and the local significance
COLUMNS = ["mass", "status", "xsec_obs", "xsec_exp_m2", "xsec_exp_m1", "xsec_exp", "xsec_exp_p1", "xsec_exp_p2"]
COLUMNS += ["coupling_obs", "coupling_exp", "z_local", "efficiency", "resolution", "background", "data"]


def main(limits_csv: str) -> None:
    pd.read_csv(limits_csv)[COLUMNS].to_csv(REFERENCE, index=False)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main(sys.argv[1])
