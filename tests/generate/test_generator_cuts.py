"""Generator-level cuts sit outside the selection: loosening them adds no selected events.

For every background with generator-level cuts in every default channel, a sample generated with
all its cuts loosened by a margin (energies and momenta x 0.75, polar angles 5 degrees wider,
|cos| limits +0.08) is selected with the channel's full selection: its selected yield must equal
the nominal one within the statistical error of the difference. Loosening every cut at once
bounds loosening any one of them (the phase space of each contains the nominal one).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from darkscan import config as cfg
from darkscan import rootio
from darkscan.generate.sample import produce_sample
from darkscan.select.selection import select_sample

#: (channel, background, events per sample[, options that split the phase space with another
#: sample of the channel and are kept: eemumu_high starts at W = 8.7 GeV, where eemumu stops])
CASES = [
    # with the hermetic photon veto about 6 of 100k mu mu gamma events pass: 1.2M for a 12% error
    ("zprime_invisible", "mumu_gamma", 1_200_000),
    ("zprime_invisible", "eemumu", 100_000),
    ("dark_higgsstrahlung", "mumu_gamma", 1_200_000),
    ("dark_higgsstrahlung", "eemumu", 100_000),
    ("dark_higgsstrahlung", "eemumu_high", 800_000, ("w_min",)),  # 0.02 events selected: 800k for 13%
    ("alp_gammagamma", "gammagammagamma", 300_000),
    ("darkphoton_invisible", "eegamma", 200_000),
    ("darkphoton_invisible", "gammagamma_isr", 100_000),
]

#: options that are no cuts: a split of the phase space between samples (lost_bands) and the
#: bound below which an imposed escape is not modelled (lost_energy_min, darkscan.generate.escape)
NOT_CUTS = ("lost_bands", "lost_energy_min")


def loosened(options: dict, splits: tuple[str, ...] = ()) -> dict:
    """Every generator-level cut widened by a margin (``splits``: options kept as they are)."""
    out = {}
    for key, value in options.items():
        if key in NOT_CUTS or key in splits:
            out[key] = value
        elif key.endswith("theta_forward"):  # a lepton lost below this angle: a wider cone
            out[key] = min(value + 5.0, 180.0)
        elif key.endswith("theta_backward"):
            out[key] = max(value - 5.0, 0.0)
        elif key.endswith("theta_min"):
            out[key] = max(value - 5.0, 1.0)
        elif key.endswith("theta_max"):
            out[key] = min(value + 5.0, 179.0)
        elif key.endswith("cos_max"):
            out[key] = min(value + 0.08, 1.0)
        elif key.endswith(("_min", "_min_gev")):
            out[key] = 0.75 * value
        else:
            out[key] = value
    return out


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Generated samples by (experiment, process, events, options): channels whose backgrounds
    share them (zprime_invisible and dark_higgsstrahlung: the same mu mu gamma) select one file."""
    directory, files = tmp_path_factory.mktemp("generator_cuts"), {}

    def get(channel: dict, experiment: dict, sample: str) -> str:
        entry = channel["backgrounds"][sample]
        key = json.dumps(
            [experiment["name"], entry["process"], entry["events"], entry.get("options", {})], sort_keys=True
        )
        if key not in files:
            files[key] = directory / f"sample{len(files)}.root"
            produce_sample(
                files[key],
                channel=channel,
                experiment=experiment,
                sample=sample,
                seed=17,
                chunk_events=200_000,
                progress=False,
            )
        return files[key]

    return get


def selected_yield(generated, tmp_path, channel: dict, experiment: dict, sample: str, tag: str) -> tuple[float, float]:
    """Selected yield (events at the channel luminosity) and its statistical error."""
    selected, flow = (tmp_path / f"{tag}.{ext}" for ext in ("selected.root", "csv"))
    raw = generated(channel, experiment, sample)
    select_sample(raw, selected, flow, channel=channel, experiment=experiment, sample=sample)
    with rootio.open_checked(selected) as file:
        tree = file[rootio.TREE]
        passed = tree["passed"].array(library="np")
        weight = tree["weight"].array(library="np")[passed] * channel["luminosity_fb"]
    return float(weight.sum()), float(math.sqrt((weight**2).sum()))


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_loosening_the_generator_cuts_adds_no_selected_events(case, global_config, generated, tmp_path):
    channel_name, background, events, *splits = case
    channel = cfg.channel_config(global_config, channel_name)
    experiment = cfg.experiment_config(global_config, channel["experiment"])
    entry = channel["backgrounds"][background]
    nominal = {**channel, "mc_luminosity_factor": 0.0, "backgrounds": {background: {**entry, "events": events}}}
    wide = {
        **nominal,
        "backgrounds": {background: {**entry, "events": events, "options": loosened(entry["options"], *splits)}},
    }
    y_nominal, e_nominal = selected_yield(generated, tmp_path, nominal, experiment, background, "nominal")
    y_wide, e_wide = selected_yield(generated, tmp_path, wide, experiment, background, "wide")
    assert y_nominal > 0 and e_nominal < 0.15 * y_nominal, (
        f"too few selected events to test ({y_nominal:.4g} +- {e_nominal:.2g})"
    )
    # independent samples: the difference has error sqrt(e1^2 + e2^2); looser cuts can only add events
    error = np.hypot(e_nominal, e_wide)
    assert y_wide - y_nominal < 2.0 * error, (
        f"{channel_name}/{background}: loosened cuts select {y_wide:.4g} +- {e_wide:.2g}, "
        f"nominal {y_nominal:.4g} +- {e_nominal:.2g}"
    )
