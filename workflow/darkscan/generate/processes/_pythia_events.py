"""Final states from Pythia 8 event records: e+e- -> tau+ tau- (gamma) and q qbar.

The event records are read per batch (:func:`run_batches`, :func:`final_states`,
:func:`tagged_final_states`): ``pythia.nextBatch`` generates a batch of events in C++ (it calls
``Pythia::next()`` exactly as a per-event loop does, so the events and the random-number
sequence are the same) and returns the event records as an awkward array, from which the final
states are extracted with vectorised numpy. A Python loop over ``pythia.event`` crosses the
pybind11 boundary for every accessor call (about 0.5 us each), so it cost about as much as
generating the event; the batched reading gives the same numbers bit for bit: sums over
particles (the neutrino four-momenta) are accumulated in record order, one addition at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import awkward as ak
import numpy as np

from darkscan.events import TruthEvents
from darkscan.generate.processes._tau_decays import decay_descriptors

_NEUTRINOS = (12, 14, 16)
#: Events per ``nextBatch`` call: bounds the memory of the awkward event records.
BATCH_SIZE = 10_000


def pack_flat(pdg: np.ndarray, p4: np.ndarray, counts: np.ndarray, invisible: np.ndarray, weight: float) -> TruthEvents:
    """Pad flat visible particles into equal-weight :class:`TruthEvents`.

    Args:
        pdg: (M,) PDG ids of the visible particles of all events, event after event.
        p4: (M, 4) their four-momenta (E, px, py, pz).
        counts: (N,) visible particles per event.
        invisible: (N, 4) summed neutrino four-momenta.
        weight: weight of every event.
    """
    pdg_pad, p4_pad, _ = pad(counts, pdg, p4)
    return TruthEvents(
        pdg=pdg_pad, p4=p4_pad, invisible=invisible, weight=np.full(len(counts), weight, dtype=np.float64)
    )


def pad(counts: np.ndarray, pdg: np.ndarray, p4: np.ndarray, tags: np.ndarray | None = None):
    """Scatter flat per-particle arrays into zero-padded (N, K) arrays, K = max(counts) (1 if N = 0).

    Returns:
        pdg (N, K) int32, p4 (N, K, 4) float64 and tags (N, K) int8 (None without ``tags``).
    """
    n = len(counts)
    width = int(counts.max()) if n else 1
    event_index = np.repeat(np.arange(n), counts)
    slot = np.arange(len(pdg)) - np.repeat(np.cumsum(counts) - counts, counts)
    pdg_pad = np.zeros((n, width), dtype=np.int32)
    p4_pad = np.zeros((n, width, 4), dtype=np.float64)
    pdg_pad[event_index, slot] = pdg
    p4_pad[event_index, slot] = p4
    tags_pad = None
    if tags is not None:
        tags_pad = np.zeros((n, width), dtype=np.int8)
        tags_pad[event_index, slot] = tags
    return pdg_pad, p4_pad, tags_pad


def run_batches(pythia, n_events: int, *, max_failures: int, what: str) -> Iterator:
    """Generate ``n_events`` events with ``pythia.nextBatch``, yielding awkward batches.

    Failed events (``Pythia::next()`` returning false) are skipped and made up for, as in a
    ``while`` loop over ``pythia.next()``, so the same events come out in the same order.

    Raises:
        RuntimeError: more than ``max_failures`` failed events.
    """
    done = failures = 0
    while done < n_events:
        want = min(BATCH_SIZE, n_events - done)
        batch = pythia.nextBatch(want, "skip")
        failures += want - len(batch)
        if failures > max_failures:
            raise RuntimeError(f"Pythia failed {failures} times generating {what}")
        if len(batch):
            done += len(batch)
            yield batch


class Columns:
    """Flat numpy columns of the particles of an awkward batch of Pythia events.

    Attributes:
        counts: (N,) particles per event; event: (M,) event of each particle; local: (M,)
        index of each particle in its event record; id, status, mother1, daughter1,
        daughter2: (M,) int; p4: (M, 4) (E, px, py, pz).
    """

    def __init__(self, batch) -> None:
        prt = batch["prt"]
        self.counts = ak.to_numpy(ak.num(prt, axis=1)).astype(np.int64)
        flat = ak.flatten(prt, axis=1)
        for name in ("id", "status", "mother1", "daughter1", "daughter2"):
            setattr(self, name, ak.to_numpy(flat[name]).astype(np.int64))
        mom = flat["p"]
        self.p4 = np.stack([ak.to_numpy(mom[c]) for c in ("e", "px", "py", "pz")], axis=1).astype(np.float64)
        n = len(self.counts)
        self.start = np.cumsum(self.counts) - self.counts
        self.event = np.repeat(np.arange(n), self.counts)
        self.local = np.arange(len(self.id)) - self.start[self.event]


def _ordered_sum(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum ``values`` (M, 4) per group, adding in the given order one term at a time.

    Bit-identical to ``acc = 0.0; acc += v`` in a Python loop (numpy's reductions use
    pairwise summation, which rounds differently).
    """
    acc = np.zeros((n_groups, values.shape[1]))
    if not len(groups):
        return acc
    order = np.argsort(groups, kind="stable")
    g, v = groups[order], values[order]
    sizes = np.bincount(g, minlength=n_groups)
    rank = np.arange(len(g)) - (np.cumsum(sizes) - sizes)[g]
    for k in range(int(rank.max()) + 1):
        sel = rank == k
        acc[g[sel]] += v[sel]
    return acc


def _final_masks(c: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the final-state neutrinos and of the visible final-state particles (lepton beam
    remnants, zero-energy photons, dropped)."""
    final = c.status > 0
    nu = final & np.isin(np.abs(c.id), _NEUTRINOS)
    return nu, final & ~nu & (c.p4[:, 0] > 0.0)


def final_states(batch) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Final states of a batch: visible particles in record order (zero-energy beam-remnant photons
    dropped) and the summed neutrinos, as (pdg (M,), p4 (M, 4), counts (N,), invisible (N, 4))."""
    c = Columns(batch)
    nu, vis = _final_masks(c)
    n = len(c.counts)
    counts = np.bincount(c.event[vis], minlength=n)
    return c.id[vis].astype(np.int32), c.p4[vis], counts, _ordered_sum(c.event[nu], c.p4[nu], n)


def _decaying_taus(c: Columns) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The decaying tau- and tau+ of each event and the first index of any tau decay product.

    A decaying tau is a tau with negative status whose first daughter has |status| 91,
    looked for before the first decay product found so far (as in a loop over the record).

    Returns:
        row (N, 2): flat row of the decaying tau- and tau+ (-1 if absent); d1, d2 (N, 2):
        the local index range of their direct decay products ((0, -1) if absent); first
        (N,): local index of the first direct decay product (2^62 if none).
    """
    n = len(c.counts)
    cand = np.flatnonzero((c.status < 0) & (np.abs(c.id) == 15) & (c.daughter1 > 0))
    d1_rows = c.start[c.event[cand]] + c.daughter1[cand]
    cand = cand[np.abs(c.status[d1_rows]) == 91]
    row = np.full((n, 2), -1, dtype=np.int64)
    d1 = np.zeros((n, 2), dtype=np.int64)
    d2 = np.full((n, 2), -1, dtype=np.int64)
    first = np.full(n, 1 << 62, dtype=np.int64)
    ev = c.event[cand]
    sizes = np.bincount(ev, minlength=n)
    rank = np.arange(len(cand)) - (np.cumsum(sizes) - sizes)[ev]
    for k in range(int(rank.max()) + 1 if len(cand) else 0):  # candidates in record order
        sel = cand[rank == k]
        e = c.event[sel]
        ok = c.local[sel] < first[e]
        sel, e = sel[ok], e[ok]
        j = np.where(c.id[sel] == 15, 0, 1)
        row[e, j] = sel
        d1[e, j] = c.daughter1[sel]
        d2[e, j] = c.daughter2[sel]
        first[e] = np.minimum(first[e], c.daughter1[sel])
    return row, d1, d2, first


def tagged_final_states(batch) -> dict[str, np.ndarray]:
    """Final states of a batch of tau-pair events, each particle tagged by the tau it descends from.

    Returns:
        A dict of arrays: ``pdg`` (M,), ``p4`` (M, 4), ``tags`` (M,) of the visible
        final-state particles (tag 1 (2) for descendants of the decaying tau- (tau+), 0
        otherwise, e.g. ISR/FSR photons), ``counts`` (N,), ``invisible`` (N, 3, 4) neutrino
        sums per tag, ``taus`` (N, 2, 4) four-momenta of the decaying tau- and tau+, and the
        decay descriptors ``kind`` (N, 2), ``p_a``, ``p_b`` (N, 2, 4), ``m_lep`` (N, 2) of
        :func:`~darkscan.generate.processes._tau_decays.decay_descriptors`.

    Raises:
        RuntimeError: an event without a decaying tau- and tau+.
    """
    c = Columns(batch)
    n = len(c.counts)
    row, d1, d2, first = _decaying_taus(c)
    if (row < 0).any():
        raise RuntimeError("e+e- -> tau+ tau- event without a decaying tau- and tau+")
    late = c.local >= first[c.event]  # decay products (direct or not) of the taus
    tag = np.zeros(len(c.id), dtype=np.int64)
    tag[row[:, 0]] = 1
    tag[row[:, 1]] = 2
    direct = np.zeros(len(c.id), dtype=bool)
    for j in (1, 0):  # the tau- range wins, as in the loop
        in_range = late & (c.local >= d1[c.event, j]) & (c.local <= d2[c.event, j])
        tag[in_range] = j + 1
        direct |= in_range
    inherit = np.flatnonzero(late & ~direct)  # secondary decays: the tag of the mother
    mother = c.start[c.event[inherit]] + c.mother1[inherit]
    while len(inherit):
        new = tag[mother]
        if np.array_equal(new, tag[inherit]):
            break
        tag[inherit] = new

    nu, vis = _final_masks(c)
    out = {
        "pdg": c.id[vis].astype(np.int32),
        "p4": c.p4[vis],
        "tags": tag[vis].astype(np.int8),
        "counts": np.bincount(c.event[vis], minlength=n),
        "invisible": _ordered_sum(3 * c.event[nu] + tag[nu], c.p4[nu], 3 * n).reshape(n, 3, 4),
        "taus": c.p4[row],
    }
    dirs = np.flatnonzero(direct)
    out["kind"], out["p_a"], out["p_b"], out["m_lep"] = decay_descriptors(
        c.event[dirs], tag[dirs] - 1, c.id[dirs], c.p4[dirs], n
    )
    return out
