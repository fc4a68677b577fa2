"""Caption facts of the Snakemake report (darkscan.report)."""

from __future__ import annotations

import json

from darkscan.report import report_facts


def test_captions_state_the_process_data_and_largest_excess(channel, tmp_path):
    facts = report_facts(channel, results_dir=tmp_path)
    assert facts.process() == channel["hepdata"]["description"]
    assert facts.data() == "background-only pseudo-data"
    assert facts.level() == "90% CL" and facts.luminosity() == "79.7 fb^-1 of background-only pseudo-data"
    assert "not built yet" in facts.excess()  # a report of a partial build still renders
    (tmp_path / "significance.json").write_text(
        json.dumps({"z_local_max": 3.214, "mass_at_max": 1.2345, "z_global": 0.4, "p_global": 0.3446, "toys": 500})
    )
    assert facts.excess() == (
        "Largest local excess: Z_local = 3.21 at 1.234 GeV; global significance 0.40 "
        "(p_global = 0.345, 500 background-only pseudo-experiments)."
    )


def test_two_mass_excess_names_both_masses(channel, tmp_path):
    channel = {**channel, "data": {**channel["data"], "source": "files"}, "hepdata": {}}
    (tmp_path / "significance.json").write_text(
        json.dumps(
            {"z_local_max": 2.5, "mass_at_max": 4.0, "mass2_at_max": 1.5, "z_global": 0.0, "p_global": 1.0, "toys": 9}
        )
    )
    facts = report_facts(channel, results_dir=tmp_path)
    assert facts.data() == "data" and facts.process() == "Channel zprime_invisible."
    assert "at (4, 1.5) GeV" in facts.excess()
