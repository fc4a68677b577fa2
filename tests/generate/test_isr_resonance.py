"""Radiative return to narrow resonances (isr_resonance) against the radiator formula."""

import numpy as np
import pytest

from darkscan.generate.processes import isr_resonance as ir
from darkscan.generate.registry import get_process
from darkscan.physics.constants import ALPHA_EM, GEV2_TO_FB


def _radiator_xsec_fb(sqrt_s, res, b_ll, theta_min, cos_lo=None, cos_hi=None):
    """Integral over cos(theta) of W(s, x, theta) 12 pi^2 Gamma_ee B_ll / (m s), x = 1 - m^2 / s."""
    s = sqrt_s**2
    x = 1 - res.mass**2 / s
    c0 = np.cos(np.radians(theta_min))
    lo, hi = (-c0, c0) if cos_lo is None else (cos_lo, cos_hi)
    angular = (2 - 2 * x + x * x) * (np.arctanh(hi) - np.arctanh(lo)) - x * x / 2 * (hi - lo)
    return ALPHA_EM / (np.pi * x) * angular * 12 * np.pi**2 * res.gamma_ee * b_ll / (res.mass * s) * GEV2_TO_FB


@pytest.mark.parametrize(
    "sqrt_s, name, decay",
    [(10.58, "jpsi", "mumu"), (10.58, "upsilon1s", "ee"), (10.58, "upsilon3s", "mumu"), (3.773, "jpsi", "ee")],
)
def test_cross_section_equals_the_radiator_formula(sqrt_s, name, decay):
    """The ISR |M|^2 (lepton angles integrated by the sampling) equals W(s, x, theta) times the
    narrow resonance's 12 pi^2 Gamma_ee B_ll / (m s), in total and in photon-angle bins."""
    ev = get_process("isr_resonance").generate(
        200_000,
        np.random.default_rng(3),
        sqrt_s=sqrt_s,
        resonance=name,
        decay=decay,
        photon_theta_min=25.0,
        photon_theta_max=155.0,
    )
    res = ir.RESONANCES[name]
    b_ll = res.b_ee if decay == "ee" else res.b_mumu
    total = _radiator_xsec_fb(sqrt_s, res, b_ll, 25.0)
    assert ev.weight.sum() == pytest.approx(total, rel=0.005)
    cos = ev.p4[:, 0, 3] / ev.p4[:, 0, 0]
    edges = np.linspace(-np.cos(np.radians(25.0)), np.cos(np.radians(25.0)), 6)
    binned = np.histogram(cos, edges, weights=ev.weight)[0]
    expected = [_radiator_xsec_fb(sqrt_s, res, b_ll, 0, a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    assert binned == pytest.approx(expected, rel=0.01)
    # the events: the dilepton mass is the resonance's, four-momentum is conserved
    pair = ev.p4[:, 1] + ev.p4[:, 2]
    assert np.allclose(np.sqrt(pair[:, 0] ** 2 - (pair[:, 1:] ** 2).sum(1)), res.mass, atol=1e-9)
    assert np.allclose(ev.p4.sum(axis=1), [sqrt_s, 0, 0, 0], atol=1e-9)
    assert ev.pdg[0].tolist() == [22, ir.DECAYS[decay][0], -ir.DECAYS[decay][0]]


def test_parameters_and_bad_options():
    # masses and widths from the particle package (PDG): J/psi 3096.9 MeV, 92.6 keV; Gamma_ee 5.53 keV
    jpsi = ir.RESONANCES["jpsi"]
    assert jpsi.mass == pytest.approx(3.0969, abs=1e-4) and jpsi.gamma_ee == pytest.approx(5.53e-6, rel=0.01)
    assert ir.RESONANCES["upsilon1s"].b_ee == pytest.approx(0.0248, rel=0.01)  # 1.340 keV / 54.0 keV
    with pytest.raises(ValueError, match="sqrt_s above its mass"):
        ir.generate(10, np.random.default_rng(1), sqrt_s=1.0195, resonance="phi")
    with pytest.raises(ValueError, match="unknown resonance"):
        ir.generate(10, np.random.default_rng(1), sqrt_s=10.58, resonance="rho")
