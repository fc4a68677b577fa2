"""The Punzi-loss network (darkscan.mva.punzi_net): gradients, a known optimum, determinism."""

import numpy as np
import pytest

from darkscan.mva import punzi_net
from darkscan.mva.punzi import punzi_denominator


def _problem(separation: float, seed: int = 0):
    """Two signal masses (features around +separation) on a background around 0 (2 features)."""
    rng = np.random.default_rng(seed)
    signals = [rng.normal(separation, 1.0, (300, 2)), rng.normal(separation, 1.0, (200, 2))]
    background = rng.normal(0.0, 1.0, (3000, 2))
    fit = rng.uniform(0.0, 2.0, 3000)
    weight = np.full(3000, 0.05)  # 150 expected background events, 75 in each window
    return punzi_net.punzi_problem(signals, background, weight, fit, [(0.0, 1.0), (1.0, 2.0)], background_scale=1.0)


def _numeric_gradient(loss, params, eps=1e-6):
    grads = []
    for i, p in enumerate(params):
        g = np.zeros_like(p, dtype=float)
        for idx in np.ndindex(p.shape):
            up = [q.copy() for q in params]
            down = [q.copy() for q in params]
            up[i][idx] += eps
            down[i][idx] -= eps
            g[idx] = (loss(up)[0] - loss(down)[0]) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("which", ["punzi", "bce"])
def test_the_analytic_gradients_are_the_numerical_ones(which):
    problem, _, _ = _problem(1.0)
    rng = np.random.default_rng(3)
    params = [rng.normal(0, 0.5, (2, 4)), rng.normal(0, 0.1, 4), rng.normal(0, 0.5, 4), np.array(0.2)]
    loss = (
        (lambda p: punzi_net.punzi_loss(p, problem)) if which == "punzi" else (lambda p: punzi_net.bce_loss(p, problem))
    )
    for analytic, numeric in zip(loss(params)[1], _numeric_gradient(loss, params), strict=True):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-9)


def test_separable_classes_reach_the_background_free_optimum():
    """Far-separated signal: the best selection keeps all signal and no background, FOM = 1 / D(0)."""
    problem, mean, scale = _problem(8.0)
    net = punzi_net.train_punzi_net(problem, mean=mean, scale=scale, seed=1, hidden=4, bce_steps=200, punzi_steps=300)
    soft_fom = -punzi_net.punzi_loss(net._params(), problem)[0]
    assert soft_fom > 0.9 / punzi_denominator(0.0)  # a soft selection: outputs never exactly 0 or 1


def test_the_punzi_loss_raises_the_fom_of_the_classifier_and_is_deterministic():
    problem, mean, scale = _problem(1.0)
    kwargs = {"mean": mean, "scale": scale, "seed": 4, "hidden": 8, "bce_steps": 200}
    classifier = punzi_net.train_punzi_net(problem, punzi_steps=0, **kwargs)
    trained = punzi_net.train_punzi_net(problem, punzi_steps=300, **kwargs)
    fom = lambda net: -punzi_net.punzi_loss(net._params(), problem)[0]  # noqa: E731
    assert fom(trained) > 1.2 * fom(classifier)
    again = punzi_net.train_punzi_net(problem, punzi_steps=300, **kwargs)
    np.testing.assert_array_equal(again.w1, trained.w1)
    x = np.array([[1.0, 1.0], [-1.0, 0.0]])
    assert trained.predict(x)[0] > trained.predict(x)[1]  # signal-like scores higher
