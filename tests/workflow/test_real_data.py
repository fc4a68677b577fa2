"""A channel's own ROOT files as data, through Snakemake: one import + selection job per file."""

import hashlib

import numpy as np
import pandas as pd
import pytest
import uproot
import yaml

from darkscan import rootio
from realdata_helpers import REAL_DATA_MAPPING, passes_zprime_cuts, write_real_ntuple
from workflow_helpers import TINY, copy_repo, run_snakemake


@pytest.mark.workflow
def test_real_data_files_are_imported_and_selected_one_per_job(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    (repo / "ntuples").mkdir()
    files = [repo / "ntuples" / f"run{i}.root" for i in range(3)]
    branches = [
        write_real_ntuple(files[0], n=800, seed=1),
        write_real_ntuple(files[1], n=0, seed=2),
        write_real_ntuple(files[2], n=500, seed=3),
    ]
    overlay = tmp_path / "real.yaml"
    data = {
        "source": "files",
        "files": [f"ntuples/{f.name}" for f in files],
        "tree": "tree",
        "branches": REAL_DATA_MAPPING,
    }
    overlay.write_text(yaml.safe_dump({"channels": {"zprime_invisible": {"data": data}}}))
    target = "results/zprime_invisible/selected/data.root"
    result = run_snakemake(
        repo,
        target,
        "results/zprime_invisible/cutflow/data.csv",
        "--notemp",
        "--cores",
        "2",
        "--configfile",
        str(TINY),
        str(overlay),
    )
    log = result.stdout + result.stderr
    assert log.count("rule import_data_file:") == 3 and log.count("rule select_data_part:") == 3
    assert "generate_sample" not in log and "pseudo_data_chunk" not in log
    # the empty run gives an empty part, not an error; the others add up event by event
    with uproot.open(repo / target) as f:
        mrecoil = f["events"]["recoil_mass"].array(library="np")
        passed = f["events"]["passed"].array(library="np")
    expected = np.concatenate([b["Mrecoil"] for b in branches])
    selected_all = np.concatenate([passes_zprime_cuts(b) for b in branches])
    assert passed.sum() == selected_all.sum() > 50
    np.testing.assert_array_equal(mrecoil[passed], expected[selected_all])
    flow = pd.read_csv(repo / "results/zprime_invisible/cutflow/data.csv")
    assert flow["events"].iloc[0] == 1300 and flow["events"].iloc[-1] == selected_all.sum()
    meta = rootio.read_metadata(repo / target)
    digests = [part["files"][0]["sha256"] for part in meta["parts"]]
    assert digests == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
