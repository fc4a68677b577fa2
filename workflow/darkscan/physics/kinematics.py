"""Small vectorised relativistic-kinematics helpers.

Four-vectors are arrays whose last axis is (E, px, py, pz) in GeV; the metric is
(+, -, -, -). All functions broadcast over leading axes.
"""

from __future__ import annotations

import numpy as np

#: Minkowski metric diagonal (+, -, -, -).
METRIC = np.array([1.0, -1.0, -1.0, -1.0])


def mdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Minkowski product a.b = a0 b0 - a.b (last axis is the four-vector axis)."""
    return a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1] - a[..., 2] * b[..., 2] - a[..., 3] * b[..., 3]


def mass2(p: np.ndarray) -> np.ndarray:
    """Invariant mass squared p.p."""
    return mdot(p, p)


def kallen(x: np.ndarray | float, y: np.ndarray | float, z: np.ndarray | float) -> np.ndarray:
    """Källén function lambda(x, y, z) = x^2 + y^2 + z^2 - 2xy - 2xz - 2yz."""
    x, y, z = np.asarray(x, float), np.asarray(y, float), np.asarray(z, float)
    return (x - y - z) ** 2 - 4.0 * y * z


def two_body_momentum(m_parent: np.ndarray | float, m1: np.ndarray | float, m2: np.ndarray | float) -> np.ndarray:
    """Momentum of either daughter in the rest frame of a parent of mass ``m_parent``.

    Returns lambda^(1/2)(M^2, m1^2, m2^2) / (2M); zero below threshold.
    """
    m_parent = np.asarray(m_parent, float)
    lam = kallen(m_parent**2, np.asarray(m1, float) ** 2, np.asarray(m2, float) ** 2)
    return np.sqrt(np.clip(lam, 0.0, None)) / (2.0 * m_parent)


def boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Lorentz-boost four-vectors by velocity ``beta``.

    A particle at rest in the original frame moves with velocity ``beta`` after the boost
    (i.e. this maps a rest-frame momentum to the frame where the parent moves with ``beta``).

    Args:
        p: (..., 4) four-vectors (E, px, py, pz).
        beta: (..., 3) or (3,) boost velocity, |beta| < 1, broadcast against ``p``.

    Returns:
        (..., 4) boosted four-vectors.
    """
    p = np.asarray(p, float)
    beta = np.asarray(beta, float)
    b2 = np.sum(beta * beta, axis=-1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * p[..., 1:], axis=-1)
    # (gamma - 1)/b2 written as gamma^2/(gamma + 1), finite at b2 -> 0.
    coef = gamma * gamma / (gamma + 1.0)
    out = np.empty(np.broadcast_shapes(p.shape, beta.shape[:-1] + (4,)))
    out[..., 0] = gamma * (p[..., 0] + bp)
    out[..., 1:] = p[..., 1:] + ((coef * bp + gamma * p[..., 0])[..., None]) * beta
    return out


def orthonormal_frame(cos_theta: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors (e1, e2, n) with n at polar angles (theta, phi) and e1, e2 perpendicular to it."""
    sin_theta = np.sqrt(np.clip(1.0 - cos_theta**2, 0.0, None))
    cp, sp = np.cos(phi), np.sin(phi)
    n = np.stack([sin_theta * cp, sin_theta * sp, cos_theta], axis=-1)
    e1 = np.stack([cos_theta * cp, cos_theta * sp, -sin_theta], axis=-1)
    e2 = np.stack([-sp, cp, np.zeros_like(cp)], axis=-1)
    return e1, e2, n


def direction(
    cos_theta: np.ndarray, phi: np.ndarray, axis: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Unit 3-vectors at (cos_theta, phi) w.r.t. the z axis or w.r.t. a frame ``axis`` = (e1, e2, n)."""
    sin_theta = np.sqrt(np.clip(1.0 - cos_theta**2, 0.0, None))
    if axis is None:
        return np.stack([sin_theta * np.cos(phi), sin_theta * np.sin(phi), cos_theta], axis=-1)
    e1, e2, n = axis
    return (
        (sin_theta * np.cos(phi))[..., None] * e1 + (sin_theta * np.sin(phi))[..., None] * e2 + cos_theta[..., None] * n
    )


def two_body_decay(
    parent: np.ndarray,
    m1: float | np.ndarray,
    m2: float | np.ndarray,
    *,
    rng: np.random.Generator | None = None,
    cos_theta: np.ndarray | None = None,
    phi: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decay parents into two daughters, isotropically or in a given rest-frame direction.

    The daughter-1 direction in the parent rest frame is (cos_theta, phi) w.r.t. the fixed
    z axis of the frame ``parent`` is given in; if not given, it is drawn isotropically
    with ``rng``.

    Args:
        parent: (N, 4) parent four-momenta.
        m1: mass(es) of daughter 1.
        m2: mass(es) of daughter 2.
        rng: random generator, needed when the direction is not given.
        cos_theta: (N,) rest-frame polar cosine of daughter 1.
        phi: (N,) rest-frame azimuth of daughter 1.

    Returns:
        (p1, p2): (N, 4) daughter four-momenta in the frame of ``parent``.
    """
    parent = np.asarray(parent, float)
    n = parent.shape[0]
    if cos_theta is None or phi is None:
        if rng is None:
            raise ValueError("two_body_decay needs rng when cos_theta/phi are not given")
        cos_theta = rng.uniform(-1.0, 1.0, n) if cos_theta is None else cos_theta
        phi = rng.uniform(0.0, 2.0 * np.pi, n) if phi is None else phi
    m_parent = np.sqrt(np.clip(mass2(parent), 0.0, None))
    q = two_body_momentum(m_parent, m1, m2)
    d = direction(np.asarray(cos_theta, float), np.asarray(phi, float))
    p1 = np.empty((n, 4))
    p2 = np.empty((n, 4))
    p1[:, 0] = np.sqrt(q**2 + np.asarray(m1, float) ** 2)
    p2[:, 0] = np.sqrt(q**2 + np.asarray(m2, float) ** 2)
    p1[:, 1:] = q[:, None] * d
    p2[:, 1:] = -p1[:, 1:]
    beta = parent[:, 1:] / parent[:, :1]
    return boost(p1, beta), boost(p2, beta)


def check_radiated_mass(mass: float | None, sqrt_s: float, *, process: str, particle: str) -> float:
    """``mass`` as float if a boson of that mass can be radiated in e+e- -> mu+ mu- X (0 < m < sqrt_s - 2 m_mu).

    Raises:
        ValueError: naming the process, the particle, the mass and the allowed range.
    """
    from darkscan.physics.constants import MUON_MASS

    upper = sqrt_s - 2.0 * MUON_MASS
    if mass is None or not 0.0 < float(mass) < upper:
        raise ValueError(
            f"{process}: {particle} mass {mass} GeV is outside the allowed range (0, {upper:.4f}) GeV "
            f"at sqrt_s = {sqrt_s} GeV"
        )
    return float(mass)
