"""A Punzi-loss network: the differentiable figure of merit of Belle II's Punzi-net, in numpy.

The method of F. Abudinén et al. (Belle II), "Punzi-loss", EPJ C 82 (2022) 121
(arXiv:2110.00810; code https://github.com/feichtip/punzinet): a small neural network whose
sigmoid output o in (0, 1) is read as a soft selection, so that for each signal mass m_j

    eps_j = sum_{signal events i of m_j} v_i o_i             (v: the mass's events, normalised to 1)
    B_j   = sum_{background events i in the window of m_j} w_i o_i    (w: expected events)
    FOM_j = eps_j / D(B_j),  D = Punzi's bracket (:func:`darkscan.mva.punzi.punzi_denominator`),

and the network is trained to maximise the mean FOM_j over the range's masses: the loss is
-mean_j FOM_j, differentiable in the network's weights. As in the reference code, the network
is first trained on the weighted binary cross entropy (a classifier), then on the Punzi loss.

Here: one hidden tanh layer (``hidden`` units) on standardised features, full-batch Adam with
the analytic gradient (no autodiff framework: the network is small), seeded initial weights,
so training is deterministic. :class:`PunziNet` predicts like a LightGBM booster
(``predict(x, num_threads=...)``), so the working-point choice of :mod:`darkscan.mva.training`
applies to it unchanged. ``benchmarks/bench_punzi_net.py`` compares it with the boosted trees.
"""

from __future__ import annotations

import dataclasses
import logging

import numpy as np

from darkscan.mva.punzi import PUNZI_A, PUNZI_B, punzi_denominator, punzi_denominator_slope

log = logging.getLogger(__name__)

#: Background floor (events) of the FOM's derivative: d sqrt(B) / dB is infinite at B = 0.
B_FLOOR = 1e-3


@dataclasses.dataclass(frozen=True)
class PunziNet:
    """A trained network: standardisation, one tanh hidden layer, a sigmoid output."""

    mean: np.ndarray  # (k,)
    scale: np.ndarray  # (k,)
    w1: np.ndarray  # (k, h)
    b1: np.ndarray  # (h,)
    w2: np.ndarray  # (h,)
    b2: float

    def predict(self, x: np.ndarray, num_threads: int = 1) -> np.ndarray:
        """Network output (n,) in (0, 1) for features ``x`` (n, k) (``num_threads``: the booster's API)."""
        del num_threads
        return _forward(self._params(), (np.asarray(x, float) - self.mean) / self.scale)[1]

    def _params(self) -> list[np.ndarray]:
        return [self.w1, self.b1, self.w2, np.array(self.b2)]


@dataclasses.dataclass(frozen=True)
class PunziProblem:
    """What the Punzi loss needs: events, which signal mass each signal event belongs to and the
    background windows of the masses."""

    x: np.ndarray  # (n, k) standardised features, signal events first
    signal_mass: np.ndarray  # (n,) index of the signal mass, -1 for backgrounds
    signal_weight: np.ndarray  # (n,) v_i: each mass's events sum to 1; 0 for backgrounds
    window_weight: np.ndarray  # (n_masses, n) w_i of the backgrounds in each mass's window, else 0
    label: np.ndarray  # (n,) 1 signal, 0 background
    bce_weight: np.ndarray  # (n,) classifier weights (signal total = background total), mean 1


def _forward(params: list[np.ndarray], x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    w1, b1, w2, b2 = params
    hidden = np.tanh(x @ w1 + b1)
    logit = np.clip(hidden @ w2 + b2, -40.0, 40.0)
    return hidden, 1.0 / (1.0 + np.exp(-logit))


def _backward(params, x, hidden, d_logit) -> list[np.ndarray]:
    """Gradients of the parameters from d loss / d logit (n,)."""
    w1, b1, w2, b2 = params
    d_hidden = np.outer(d_logit, w2) * (1.0 - hidden**2)
    return [x.T @ d_hidden, d_hidden.sum(0), hidden.T @ d_logit, np.array(d_logit.sum())]


def bce_loss(params: list[np.ndarray], problem: PunziProblem) -> tuple[float, list[np.ndarray]]:
    """Weighted binary cross entropy (per event) and its gradient."""
    hidden, out = _forward(params, problem.x)
    eps = 1e-12
    y, w = problem.label, problem.bce_weight
    value = -np.mean(w * (y * np.log(out + eps) + (1 - y) * np.log(1 - out + eps)))
    return float(value), _backward(params, problem.x, hidden, w * (out - y) / len(y))


def punzi_loss(
    params: list[np.ndarray], problem: PunziProblem, *, a: float = PUNZI_A, b: float = PUNZI_B
) -> tuple[float, list[np.ndarray]]:
    """-mean_j FOM_j of the soft selection and its gradient (see the module docstring)."""
    hidden, out = _forward(params, problem.x)
    n_masses = problem.window_weight.shape[0]
    is_signal = problem.signal_mass >= 0
    eps = np.bincount(problem.signal_mass[is_signal], problem.signal_weight[is_signal] * out[is_signal], n_masses)
    background = np.maximum(problem.window_weight @ out, B_FLOOR)
    denominator = punzi_denominator(background, a=a, b=b)
    d_denominator = punzi_denominator_slope(background, a=a, b=b)
    # d(-mean_j FOM_j) / d out_i = (1/J) sum_j (-v_i [i in j] / D_j + eps_j D'_j u_ji / D_j^2)
    d_eps = np.zeros_like(out)
    d_eps[is_signal] = problem.signal_weight[is_signal] / denominator[problem.signal_mass[is_signal]]
    d_out = (-d_eps + (eps * d_denominator / denominator**2) @ problem.window_weight) / n_masses
    value = -float(np.mean(eps / denominator))
    return value, _backward(params, problem.x, hidden, d_out * out * (1.0 - out))


def _adam(loss, params: list[np.ndarray], *, steps: int, rate: float) -> list[np.ndarray]:
    """Full-batch Adam (Kingma and Ba, arXiv:1412.6980, default betas)."""
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    for t in range(1, steps + 1):
        _, grads = loss(params)
        for i, g in enumerate(grads):
            m[i] = 0.9 * m[i] + 0.1 * g
            v[i] = 0.999 * v[i] + 0.001 * g**2
            params[i] = params[i] - rate * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)
    return params


def train_punzi_net(
    problem: PunziProblem,
    *,
    mean: np.ndarray,
    scale: np.ndarray,
    seed: int,
    hidden: int = 16,
    bce_steps: int = 300,
    punzi_steps: int = 300,
    rate: float = 0.01,
    a: float = PUNZI_A,
    b: float = PUNZI_B,
) -> PunziNet:
    """Train a network: ``bce_steps`` on the cross entropy, then ``punzi_steps`` on the Punzi loss."""
    rng = np.random.default_rng(seed)
    k = problem.x.shape[1]
    params = [
        rng.normal(0.0, 1.0 / np.sqrt(k), (k, hidden)),
        np.zeros(hidden),
        rng.normal(0.0, 1.0 / np.sqrt(hidden), hidden),
        np.array(0.0),
    ]
    params = _adam(lambda p: bce_loss(p, problem), params, steps=bce_steps, rate=rate)
    before = -punzi_loss(params, problem, a=a, b=b)[0]
    params = _adam(lambda p: punzi_loss(p, problem, a=a, b=b), params, steps=punzi_steps, rate=rate)
    log.info(
        "Punzi-net: soft mean FOM %.4g after the cross entropy, %.4g after the Punzi loss",
        before,
        -punzi_loss(params, problem, a=a, b=b)[0],
    )
    w1, b1, w2, b2 = params
    return PunziNet(mean=mean, scale=scale, w1=w1, b1=b1, w2=w2, b2=float(b2))


def punzi_problem(
    x_signal: list[np.ndarray],
    x_background: np.ndarray,
    background_weight: np.ndarray,
    background_fit: np.ndarray,
    windows: list[tuple[float, float]],
    *,
    background_scale: float,
) -> tuple[PunziProblem, np.ndarray, np.ndarray]:
    """The Punzi problem of one range, and the features' mean and scale (standardisation).

    Args:
        x_signal: features (n_j, k) of each signal mass's training events.
        x_background: features (n, k) of the training backgrounds.
        background_weight: their expected events (n,) at the channel luminosity.
        background_fit: their fit-variable values (n,).
        windows: each mass's signal window (lo, hi) in the fit variable.
        background_scale: factor from the training rows to all events (e.g. 2 ``training_every``).
    """
    x = np.concatenate([*x_signal, x_background])
    mean, scale = x.mean(0), np.where(x.std(0) > 0, x.std(0), 1.0)
    n_sig = sum(len(s) for s in x_signal)
    signal_mass = np.concatenate(
        [np.full(len(s), j) for j, s in enumerate(x_signal)] + [np.full(len(x_background), -1)]
    )
    signal_weight = np.concatenate(
        [np.full(len(s), 1.0 / max(len(s), 1)) for s in x_signal] + [np.zeros(len(x_background))]
    )
    window_weight = np.zeros((len(windows), len(x)))
    for j, (lo, hi) in enumerate(windows):
        inside = (background_fit >= lo) & (background_fit < hi)
        window_weight[j, n_sig:] = np.where(inside, background_weight * background_scale, 0.0)
    label = (signal_mass >= 0).astype(float)
    # the classifier's weights, as the boosted trees': backgrounds by expected events, the signal
    # events equal, with the background's total
    n_bkg = len(x_background)
    bce = np.concatenate([np.full(n_sig, n_bkg / max(n_sig, 1)), background_weight * n_bkg / background_weight.sum()])
    bce = bce / bce.mean()
    return PunziProblem((x - mean) / scale, signal_mass, signal_weight, window_weight, label, bce), mean, scale


def importance(net: PunziNet) -> np.ndarray:
    """Feature importance (fractions): sum over hidden units of |w1 w2|, the size of each
    standardised feature's path to the output."""
    size = np.abs(net.w1 * net.w2[None, :]).sum(axis=1)
    return size / max(size.sum(), 1e-300)
