"""The fit-method registry (darkscan.stats.methods): the built-in method packages register themselves."""

import pytest

from darkscan.stats.methods import DEFAULT, get_calibrator, get_method
from darkscan.stats.methods import ellipse_counting as ellipse_method
from darkscan.stats.methods import window_sidebands as window_method


def test_registered_as_fit_method():
    method = get_method({"name": "x", "fit": {"method": "ellipse_counting"}})
    assert method.scan_part is ellipse_method.scan_part
    assert method.write_significance is ellipse_method.write_significance


def test_the_default_method_is_the_window_package():
    method = get_method({"name": "x", "fit": {}})
    assert method.name == DEFAULT == "window_sidebands"
    assert (method.load_signal_model, method.scan_part, method.write_significance, method.calibrate) == (
        window_method.load_signal_model,
        window_method.scan_part,
        window_method.write_significance,
        window_method.calibrate,
    )
    assert get_calibrator({"name": "x", "fit": {"method": "ellipse_counting"}}) is ellipse_method.calibrate


def test_unknown_method_is_named():
    with pytest.raises(ValueError, match="unknown fit.method 'nope'"):
        get_method({"name": "x", "fit": {"method": "nope"}})
