"""MVA selection: deterministic training, a Punzi-chosen working point, no training event in a yield."""

import filecmp
import json

import numpy as np
import pandas as pd
import pytest
import uproot

from darkscan import config as cfg
from darkscan import rootio
from darkscan.mva import apply, training

EVERY = 4


def _write_selected(path, *, n, signal, rng, mass=None, is_data=False):
    """A selected file as select_sample writes it: columns, cut flags, passed, weight, metadata."""
    shift = 1.2 if signal else -1.2
    columns = {
        "f1": rng.normal(shift, 1.0, n),
        "f2": rng.normal(0.5 * shift, 1.0, n),
        "x": rng.normal(mass, 0.05, n) if signal else rng.uniform(0.0, 3.0, n),
        "event_id": np.arange(n),
    }
    columns["cut_pre"] = rng.random(n) < 0.9
    columns["passed"] = columns["cut_pre"].copy()
    columns["weight"] = np.full(n, 1.0 if is_data else (1e-3 if signal else 0.5))
    with rootio.recreate(path) as out:
        rootio.write_events(out, columns, first=True)
        metadata = {"is_data": is_data, "sample": path.stem}
        if mass is not None:
            metadata["mass"] = mass
        rootio.write_metadata(out, metadata)
    with open(path.with_suffix(".csv"), "w") as f:
        total = columns["weight"].sum() * (1.0 if is_data else 10.0)
        f.write(f"sample,cut,label,events,yield,yield_err,efficiency\n{path.stem},all,all,{n},{total},1,1\n")


@pytest.fixture(scope="module", params=["lightgbm", "punzi_net"])
def toy(tmp_path_factory, request):
    """The toy samples trained twice (runs a and b) with each method."""
    base = tmp_path_factory.mktemp("mva")
    rng = np.random.default_rng(11)
    signals = {}
    for mass in (0.8, 2.2):
        path = base / f"signal_m{mass:.1f}".replace(".", "p")
        path = path.with_suffix(".root")
        _write_selected(path, n=4000, signal=True, rng=rng, mass=mass)
        signals[path.stem] = path
    backgrounds = {"bkg": base / "bkg.root"}
    _write_selected(backgrounds["bkg"], n=40000, signal=False, rng=rng)
    _write_selected(base / "data.root", n=3000, signal=False, rng=rng, is_data=True)
    channel = {"name": "toy", "luminosity_fb": 10.0, "fit": {"variable": "x"}}
    channel["mva"] = {
        "features": ["f1", "f2"],
        "range_edges": [0.0, 1.5, 3.0],
        "training_every": EVERY,
        "window_sigmas": 2.0,
        "punzi_a": 3.0,
        "working_point_min_background": 20,
        "punzi_b": 1.28155,
        "method": request.param,
        "punzi_net": {"hidden": 8, "bce_steps": 100, "punzi_steps": 100, "learning_rate": 0.02},
        "classifier": {
            "num_boost_round": 40,
            "learning_rate": 0.1,
            "num_leaves": 7,
            "min_data_in_leaf": 20,
            "max_bin": 63,
        },
    }
    results = {}
    for run in ("a", "b"):
        results[run] = training.train_mva(
            signals,
            backgrounds,
            channel=channel,
            global_seed=5,
            model_dir=base / run / "models",
            summary_path=base / run / "working_points.json",
        )
    return {"base": base, "channel": channel, "signals": signals, "backgrounds": backgrounds, "results": results}


def test_training_is_bit_identical_on_rebuild(toy):
    suffix = ".txt" if toy["channel"]["mva"]["method"] == "lightgbm" else ".json"
    for i in range(2):
        first, second = (toy["base"] / run / "models" / f"range{i}{suffix}" for run in "ab")
        assert filecmp.cmp(first, second, shallow=False)
    assert filecmp.cmp(toy["base"] / "a" / "working_points.json", toy["base"] / "b" / "working_points.json")


def test_working_point_raises_the_punzi_figure_of_merit(toy):
    for result in toy["results"]["a"]:
        assert result.fom > 1.5 * result.fom_without_mva
        assert 0.3 < result.signal_efficiency < 1.0
        assert result.background_efficiency < 0.3
        assert sum(result.importance.values()) == pytest.approx(1.0)
    assert [r.signal_masses for r in toy["results"]["a"]] == [[0.8], [2.2]]


def test_a_range_without_enough_training_events_is_an_error(toy):
    with pytest.raises(ValueError, match=r"MVA range \[3.0, 4.0\)"):
        training.train_range(
            3.0,
            4.0,
            signals=[
                training.read_sample(
                    toy["signals"]["signal_m0p8"], name="s", features=["f1", "f2"], fit_variable="x", scale=1.0
                )
            ],
            backgrounds=[],
            features=["f1", "f2"],
            settings=toy["channel"]["mva"],
            seed=1,
        )


def test_reading_in_steps_keeps_the_rows(toy, monkeypatch):
    whole = training.read_sample(toy["backgrounds"]["bkg"], name="b", features=["f1"], fit_variable="x", scale=2.0)
    monkeypatch.setattr(training, "STEP_SIZE", 997)
    steps = training.read_sample(toy["backgrounds"]["bkg"], name="b", features=["f1"], fit_variable="x", scale=2.0)
    np.testing.assert_array_equal(whole.row, steps.row)
    np.testing.assert_array_equal(whole.features, steps.features)
    assert whole.weight[0] == pytest.approx(1.0)


@pytest.mark.parametrize("sample", ["bkg", "data"])
def test_no_training_event_enters_a_yield(toy, tmp_path, sample):
    boosters, summary = apply.load_models(toy["base"] / "a" / "models", toy["base"] / "a" / "working_points.json")
    source = toy["base"] / f"{sample}.root"
    out = tmp_path / f"{sample}.root"
    result = apply.apply_mva(
        source,
        out,
        cutflow_in=source.with_suffix(".csv"),
        cutflow_out=tmp_path / f"{sample}.csv",
        boosters=boosters,
        summary=summary,
        channel=toy["channel"],
        sample=sample,
    )
    with uproot.open(out) as f:
        arrays = f["events"].arrays(library="np")
    with uproot.open(source) as f:
        before = f["events"].arrays(library="np")
    if sample == "data":
        assert len(arrays["event_id"]) == len(before["event_id"])
        assert arrays["weight"] == pytest.approx(1.0)
    else:
        # every fourth row trained: none of them is left, and the others carry 4/3 of their weight
        assert not np.any(arrays["event_id"] % EVERY == 0)
        assert len(arrays["event_id"]) == np.sum(before["event_id"] % EVERY != 0)
        assert arrays["weight"] == pytest.approx(0.5 * EVERY / (EVERY - 1))
    assert np.all(arrays["passed"] == (arrays["cut_pre"] & arrays["cut_mva"]))
    lumi = 1.0 if sample == "data" else 10.0
    expected_yield = arrays["weight"][arrays["passed"]].sum() * lumi
    flow = pd.read_csv(tmp_path / f"{sample}.csv")
    assert flow["cut"].tolist() == ["all", "mva"]
    assert flow["yield"].iloc[-1] == pytest.approx(expected_yield, rel=1e-6)
    assert result["events"] == int(arrays["passed"].sum())
    # scores come from the classifier of each event's range
    in_first = (arrays["x"] >= 0.0) & (arrays["x"] < 1.5)
    features = np.stack([arrays["f1"][in_first], arrays["f2"][in_first]], axis=1)
    assert arrays["mva_score"][in_first] == pytest.approx(boosters[0].predict(features))


def test_mva_schema_defaults_fill_the_classifier():
    channel = {"mva": {"features": ["a"], "range_edges": [0, 1]}}
    schema = cfg.load_yaml(cfg.SCHEMA_DIR / "channel.schema.yaml")
    validator = cfg._validator_with_defaults({**schema, "required": []})
    validator.validate(channel)
    assert channel["mva"]["training_every"] == 4
    assert channel["mva"]["classifier"]["num_boost_round"] == 200
    assert json.dumps(channel)


def test_the_working_point_keeps_a_measured_background(toy):
    """No threshold leaves fewer than working_point_min_background working-point background
    events in its range; a larger minimum gives a looser cut."""

    def train(minimum):
        read = lambda path, name: training.read_sample(  # noqa: E731
            path, name=name, features=["f1", "f2"], fit_variable="x", scale=1.0
        )
        settings = {**toy["channel"]["mva"], "working_point_min_background": minimum}
        return training.train_range(
            0.0,
            1.5,
            signals=[read(toy["signals"]["signal_m0p8"], "s")],
            backgrounds=[read(toy["backgrounds"]["bkg"], "b")],
            features=["f1", "f2"],
            settings=settings,
            seed=1,
        )

    background = training.read_sample(
        toy["backgrounds"]["bkg"], name="b", features=["f1", "f2"], fit_variable="x", scale=1.0
    )
    rows = training.training_rows(background.row, EVERY) & ~training.fit_rows(background.row, EVERY)
    rows &= background.fit_value < 1.5
    loose, tight = train(2000), train(1)
    for result, minimum in ((loose, 2000), (tight, 1)):
        kept = np.count_nonzero(result.model.predict(background.features[rows]) > result.threshold)
        assert kept >= minimum
    assert loose.threshold < tight.threshold and loose.signal_efficiency > tight.signal_efficiency


def test_saved_models_score_as_the_trained_ones(toy):
    """The written model (LightGBM text or the network's JSON) predicts what the trained one did."""
    models, summary = apply.load_models(toy["base"] / "a" / "models", toy["base"] / "a" / "working_points.json")
    assert summary["method"] == toy["channel"]["mva"]["method"]
    x = np.random.default_rng(2).normal(0.0, 1.5, (500, 2))
    for loaded, trained in zip(models, toy["results"]["a"], strict=True):
        np.testing.assert_allclose(loaded.predict(x), trained.model.predict(x), rtol=1e-12, atol=1e-15)
