"""A config change reruns exactly the jobs that read it (darkscan.stage_inputs).

After the tiny build, each case changes one key (channel, experiment or global config) in an
overlay and compares the jobs that ``snakemake -n`` plans, rule by rule, with a written
expectation: nothing missed (a stale result) and nothing extra (a needless rerun). A job reruns
when its params (its declared config slice) change, or downstream of a job that reruns.
"""

from __future__ import annotations

import concurrent.futures
import copy
import re

import pytest
import yaml

from darkscan.config import deep_merge
from workflow_helpers import TINY, run_snakemake

pytestmark = pytest.mark.workflow

# The tiny build: 3 signal masses + 3 backgrounds, one pseudo-data chunk, two scan parts. A job
# also reruns when one of its input files is rewritten: everything that reads limits.csv (the
# look-elsewhere toys, the calibration, the notebook, the plots) follows merge_limits. The tiny
# zprime_invisible has the MVA stage: a changed MC sample retrains it (train_mva reads every
# selected MC sample), which reapplies it to all 6 MC samples and the data (the systematics table
# reads the MVA-selected signal cut flows), and the control sample is measured again on the
# MVA-selected background and data files.
MVA_ON = {"train_mva": 1, "apply_mva": 7, "measure_control_samples": 1}
SELECTION_ON = {
    "select_sample": 6,
    "select_data_part": 1,
    "merge_data": 1,
    "merge_cutflow": 1,
    "fill_histograms": 1,
    **MVA_ON,
}
LIMITS_ON = {
    "merge_limits": 1,
    "compute_significance": 1,
    "calibrate_scan": 1,
    "plot_limits": 1,
    "render_validation": 1,
}
SCAN_ON = {"scan_part": 2, **LIMITS_ON}
FIT_ON = {"aggregate_systematics": 1, **SCAN_ON}
EVERYTHING = {"generate_sample": 6, "pseudo_data_chunk": 1, **SELECTION_ON, **FIT_ON}


def _one_sample(jobs: int = 1, *, added: int = 0) -> dict:
    """MC samples changed (``added`` of them new): regenerated and reselected; the MVA retrained
    and reapplied to every sample; then what reads every selected sample."""
    return {
        "generate_sample": jobs,
        "select_sample": jobs,
        "merge_cutflow": 1,
        "fill_histograms": 1,
        "train_mva": 1,
        "apply_mva": 7 + added,
        "measure_control_samples": 1,
        **FIT_ON,
    }


ZP = "zprime_invisible"
CASES = {
    # channel config
    "model": ("model", LIMITS_ON),
    "coupling.scenarios": (
        {
            "channels": {
                ZP: {"coupling": {"scenarios": {"fully_invisible": {"label": "BF = 1", "branching": "invisible"}}}}
            }
        },
        LIMITS_ON,
    ),
    "plots.gm2_band": ({"channels": {ZP: {"plots": {"gm2_band": False}}}}, {"plot_limits": 1}),
    "plots.validation_variables": (
        {"channels": {ZP: {"plots": {"validation_variables": {"mu1_pt": "muon_pt"}}}}},
        {"render_validation": 1},
    ),
    "fit.label": ({"channels": {ZP: {"fit": {"label": "recoil mass"}}}}, {"fill_histograms": 1, **SCAN_ON}),
    "fit.pyhf_check_every": ({"channels": {ZP: {"fit": {"pyhf_check_every": 7}}}}, SCAN_ON),
    "fit.limit": ({"channels": {ZP: {"fit": {"limit": "cls_toys"}}}}, SCAN_ON),
    "fit.signal_sigmas": ({"channels": {ZP: {"fit": {"signal_sigmas": 2.5}}}}, FIT_ON),
    "cl": ({"channels": {ZP: {"cl": 0.95}}}, SCAN_ON),
    "lookelsewhere.toys": (
        {"channels": {ZP: {"lookelsewhere": {"toys": 150}}}},
        {"compute_significance": 1, "calibrate_scan": 1, "plot_limits": 1, "render_validation": 1},
    ),
    "calibration.toys": (
        {"channels": {ZP: {"calibration": {"toys": 150}}}},
        {"calibrate_scan": 1, "render_validation": 1},  # the notebook shows the calibration
    ),
    "systematics": ("systematic", {"aggregate_systematics": 1, **SCAN_ON}),
    "selection.cut": ("cut", {**SELECTION_ON, **FIT_ON}),
    "backgrounds.tautau.events": ({"channels": {ZP: {"backgrounds": {"tautau": {"events": 5000}}}}}, _one_sample()),
    "backgrounds.tautau.options": (
        {"channels": {ZP: {"backgrounds": {"tautau": {"options": {"xsec_nb": 0.92}}}}}},
        {**_one_sample(), "pseudo_data_chunk": 1, "select_data_part": 1, "merge_data": 1},
    ),
    "backgrounds.tautau.label": (
        {"channels": {ZP: {"backgrounds": {"tautau": {"label": "tau pairs"}}}}},
        {"render_validation": 1},
    ),
    "signal.events": ({"channels": {ZP: {"signal": {"events": 5000}}}}, _one_sample(3)),
    "signal.masses (one added)": (
        {"channels": {ZP: {"signal": {"masses": [1.0, 3.0, 4.5, 6.0]}}}},
        _one_sample(1, added=1),
    ),
    "data.unweighting_tolerance": (
        {"channels": {ZP: {"data": {"unweighting_tolerance": 0.002}}}},
        {
            "pseudo_data_chunk": 1,
            "select_data_part": 1,
            "merge_data": 1,
            "apply_mva": 1,
            "measure_control_samples": 1,  # the control sample's data: its systematic follows
            "aggregate_systematics": 1,
            "merge_cutflow": 1,
            "fill_histograms": 1,
            **SCAN_ON,
        },
    ),
    "luminosity_fb": (
        {"channels": {ZP: {"luminosity_fb": 0.31}}},
        {"generate_sample": 3, "pseudo_data_chunk": 1, **SELECTION_ON, **FIT_ON},
    ),
    # experiment config
    "experiment resolution": ({"experiments": {"belle2": {"tracking": {"pt_resolution_a": 0.0012}}}}, EVERYTHING),
    "experiment systematic": (
        {"experiments": {"belle2": {"systematics": {"luminosity_rel": 0.02}}}},
        {"aggregate_systematics": 1, **SCAN_ON},
    ),
    # global config
    "seed": ({"seed": 12345}, EVERYTHING),
    "compression": ({"compression": "zstd"}, EVERYTHING),
}


def planned_jobs(repo, *configfiles) -> dict[str, int]:
    """Rule -> number of jobs that ``snakemake -n`` plans (``all`` left out)."""
    result = run_snakemake(repo, "-n", "--nolock", "--configfile", *map(str, configfiles))
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text[text.index("Job stats:") : text.index("Reasons:") if "Reasons:" in text else None]
    jobs = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}
    jobs.pop("all", None)
    jobs.pop("total", None)
    return jobs


def _overlay(case, repo) -> dict:
    """The tiny overlay with the case's change merged in."""
    base = yaml.safe_load(TINY.read_text())
    if case == "cut":
        cuts = yaml.safe_load((repo / "config/channels/zprime_invisible.yaml").read_text())["selection"]["cuts"]
        cuts[3]["expr"] = "(mu1_pt > 0.5) & (mu2_pt > 0.5)"
        return deep_merge(base, {"channels": {ZP: {"selection": {"cuts": cuts}}}})
    if case == "systematic":
        systematics = yaml.safe_load((repo / "config/channels/zprime_invisible.yaml").read_text())["systematics"]
        index = next(i for i, s in enumerate(systematics) if s["name"] == "fit_bias")
        systematics[index] = {**systematics[index], "value": 0.03}  # 2% -> 3%
        return deep_merge(base, {"channels": {ZP: {"systematics": systematics}}})
    if case == "model":  # another model needs its own coupling scenarios: a channel file of its own
        channel = yaml.safe_load((repo / "config/channels/zprime_invisible.yaml").read_text())
        channel["model"] = "alp"
        channel["coupling"]["scenarios"] = {"gammagamma": {"label": "BF = 1", "branching": "gammagamma"}}
        path = repo.parent / "zprime_as_alp.yaml"
        path.write_text(yaml.safe_dump(channel, sort_keys=False))  # key order matters: the first scenario
        return deep_merge(base, {"channels": {ZP: {"config": str(path)}}})
    return deep_merge(base, copy.deepcopy(case))


@pytest.fixture(scope="module")
def plans(built, tmp_path_factory) -> dict[str, dict[str, int]]:
    """The plan of every case, two dry runs at a time (each is a Snakemake start, ~3 s)."""
    directory = tmp_path_factory.mktemp("rerun_overlays")

    def plan(name):
        path = directory / (re.sub(r"\W+", "_", name) + ".yaml")
        # key order kept: params compare as ordered mappings (and the first coupling scenario matters)
        path.write_text(yaml.safe_dump(_overlay(CASES[name][0], built), sort_keys=False))
        return name, planned_jobs(built, path)

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(plan, CASES))


@pytest.mark.parametrize("name", list(CASES))
def test_a_config_change_reruns_exactly_what_reads_it(plans, name):
    assert plans[name] == CASES[name][1]


def test_an_unchanged_config_reruns_nothing(built):
    assert planned_jobs(built, TINY) == {}
