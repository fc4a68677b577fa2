"""Produce sample files: generate in seeded chunks, simulate the detector, write ROOT.

MC samples (``results/{channel}/samples/{sample}.root``) hold weighted events (``weight`` in fb
per event, summing to the cross section of the generated phase space). The pseudo-dataset
(``results/{channel}/samples/data/chunk{i}.root``, files like runs of real data) is an
unweighted Poisson draw of the background model at the channel luminosity, drawn from
independent random streams (``weight`` = 1); each file is selected on its own and the selected
parts are concatenated (:func:`darkscan.select.selection.merge_data_parts`).
Each chunk c of sample s uses ``seed_for(seed, channel, s, c)``, so outputs do not depend on
how many jobs or cores run.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os

import numpy as np

from darkscan import config as cfg
from darkscan import rootio
from darkscan.events import TruthEvents
from darkscan.experiments.detector import beams_of, simulate
from darkscan.generate.escape import Escape
from darkscan.generate.registry import get_process
from darkscan.progress import progress as progress_of
from darkscan.seeds import rng_for, seed_for

log = logging.getLogger(__name__)


def chunk_sizes(n_events: int, chunk_events: int) -> list[int]:
    """Split ``n_events`` into chunks of at most ``chunk_events``."""
    n_chunks = max(1, math.ceil(n_events / chunk_events))
    base, extra = divmod(n_events, n_chunks)
    return [base + (i < extra) for i in range(n_chunks)]


def _generate_chunk(
    process_name: str, n: int, seed: int, names: tuple, *, sqrt_s: float, options: dict, escape: Escape | None = None
) -> TruthEvents:
    process = get_process(process_name)
    events = process.generate(n, rng_for(seed, *names), sqrt_s=sqrt_s, **options)
    return escape.apply(events) if escape else events


def _equal_weights(process_name: str, escape: Escape | None) -> bool:
    """True if the events of a component carry equal weights: an unweighted generator, no imposed escape."""
    return get_process(process_name).unweighted and escape is None


def _write_chunk(out, events: TruthEvents, experiment: dict, seed: int, names: tuple, first: bool) -> None:
    payload = simulate(events, experiment, rng_for(seed, *names, "detector"))
    rootio.write_events(out, payload, first=first)


def equivalent_luminosity_fb(sum_w: float, sum_w2: float) -> float:
    """Luminosity (fb^-1) of unweighted data with the statistical power of weighted MC: (sum w)^2 / sum w^2 / sum w."""
    return sum_w / sum_w2 if sum_w > 0 and sum_w2 > 0 else 0.0


def sized_events(
    process_name: str,
    options: dict,
    *,
    events: int,
    luminosity_fb: float,
    factor: float,
    sqrt_s: float,
    seed: int,
    names: tuple,
    pilot_events: int,
    escape: Escape | None = None,
) -> tuple[int, float]:
    """Events of a background MC sample: ``events``, or more, so that it carries ``factor`` x the luminosity.

    A pilot run on its own stream measures the cross section and the effective fraction of the
    events, f = (sum w)^2 / (n sum w^2); N = factor L sigma / f, plus 5% (15% for weighted
    generators, whose pilot sees less of the weight tail) against the pilot's own fluctuation.

    Returns:
        (events to generate, the luminosity they are expected to carry in fb^-1).
    """
    if factor <= 0:
        return events, math.nan
    unweighted = _equal_weights(process_name, escape)
    pilot = _generate_chunk(
        process_name,
        1 if unweighted else pilot_events,
        seed,
        (*names, "pilot"),
        sqrt_s=sqrt_s,
        options=options,
        escape=escape,
    )
    sigma = float(pilot.weight.sum())
    if sigma <= 0:
        return events, math.nan
    efficiency = 1.0 if unweighted else sigma**2 / (len(pilot) * float((pilot.weight**2).sum()))
    margin = 1.05 if unweighted else 1.15  # a pilot sees less of a heavy weight tail (3 gamma: 2.83 for 3 with 1.05)
    needed = math.ceil(margin * factor * luminosity_fb * sigma / efficiency)
    n = max(events, needed)
    return n, n * efficiency / sigma


def produce_sample(
    out_path: str | os.PathLike,
    *,
    channel: dict,
    experiment: dict,
    sample: str,
    seed: int,
    chunk_events: int,
    compression: str = "lz4",
    progress: bool = True,
) -> dict:
    """Generate one MC sample of a channel and write it; returns the file metadata.

    The cross section in the metadata is the sum of the weights; its error is sqrt(sum w^2).
    A background sample carries at least ``mc_luminosity_factor`` x the channel luminosity
    (:func:`sized_events`; an MVA channel that trains on one event in ``training_every`` needs
    ``every / (every - 1)`` times more); the metadata keep its ``equivalent_luminosity_fb``.
    """
    entry = cfg.sample_config(channel, sample)
    process = get_process(entry["process"])
    sqrt_s = beams_of(experiment).sqrt_s
    events, factor = entry["events"], 0.0
    escape = Escape.of(entry, experiment, f"{channel['name']}/{sample}")
    if sample in channel["backgrounds"]:
        # an MVA channel trains on one event in training_every: the rest must still carry the factor
        mva = channel.get("mva")
        factor = float(channel.get("mc_luminosity_factor", 0.0))
        if mva:
            factor *= mva["training_every"] / (mva["training_every"] - 1)
        events, _ = sized_events(
            entry["process"],
            entry.get("options", {}),
            events=events,
            luminosity_fb=channel["luminosity_fb"],
            factor=factor,
            sqrt_s=sqrt_s,
            seed=seed,
            names=(channel["name"], sample),
            pilot_events=int(channel["data"].get("pilot_events", 20_000)),
            escape=escape,
        )
    sizes = chunk_sizes(events, chunk_events)
    sum_w = sum_w2 = 0.0
    with rootio.recreate(out_path, compression=compression) as out:
        chunks = progress_of(sizes, desc=f"{channel['name']}/{sample}", unit="chunk") if progress else sizes
        for i, n in enumerate(chunks):
            names = (channel["name"], sample, i)
            chunk = _generate_chunk(
                entry["process"], n, seed, names, sqrt_s=sqrt_s, options=entry.get("options", {}), escape=escape
            )
            # Each chunk's weights sum to its own estimate of sigma; average the chunks.
            chunk = TruthEvents(chunk.pdg, chunk.p4, chunk.invisible, chunk.weight * (n / events))
            sum_w += float(chunk.weight.sum())
            sum_w2 += float((chunk.weight**2).sum())
            _write_chunk(out, chunk, experiment, seed, names, first=(i == 0))
        equivalent = equivalent_luminosity_fb(sum_w, sum_w2)
        metadata = {
            "channel": channel["name"],
            "sample": sample,
            "process": entry["process"],
            "options": entry.get("options", {}),
            "escapes": list(entry.get("escapes", [])),
            "is_data": False,
            "xsec_fb": sum_w,
            "xsec_err_fb": math.sqrt(sum_w2),
            "generated_events": events,
            "configured_events": entry["events"],
            "equivalent_luminosity_fb": equivalent,
            "seed": seed,
            "chunk_seeds": [seed_for(seed, channel["name"], sample, i) for i in range(len(sizes))],
            "generator": process.generator_name,
            "experiment": experiment["name"],
            "sqrt_s": sqrt_s,
            "versions": rootio.package_versions(),
        }
        if factor > 0:
            metadata.update(
                mc_luminosity_factor=factor,
                data_luminosity_fb=channel["luminosity_fb"],
                luminosity_ratio=equivalent / channel["luminosity_fb"],
            )
            if equivalent < factor * channel["luminosity_fb"]:
                log.warning(
                    "%s/%s: equivalent luminosity %.4g fb^-1 is below %.3g x %.4g fb^-1 "
                    "(the pilot run underestimated the weight spread)",
                    channel["name"],
                    sample,
                    equivalent,
                    factor,
                    channel["luminosity_fb"],
                )
        if "mass" in entry:
            metadata["mass"] = entry["mass"]
        if "mass2" in entry:
            metadata["mass2"] = entry["mass2"]
        rootio.write_metadata(out, metadata)
    log.info(
        "%s/%s: %d events (%d configured), sigma = %.4g +- %.2g fb, equivalent luminosity %.4g fb^-1",
        channel["name"],
        sample,
        events,
        entry["events"],
        sum_w,
        math.sqrt(sum_w2),
        equivalent,
    )
    return metadata


def data_component(channel: dict, component: str) -> tuple[str, str, dict]:
    """Name, process and generator options of one pseudo-data component.

    A background is generated as its MC sample is. The signal sample at the mass of
    ``data.inject_signal`` becomes ``injected_signal``, generated at the injected coupling.
    """
    inject = channel["data"].get("inject_signal")
    if inject and component == cfg.signal_sample_name(inject["mass"]):
        options = {**channel["signal"].get("options", {}), "mass": inject["mass"], "coupling": inject["coupling"]}
        return "injected_signal", channel["signal"]["process"], options
    if component not in channel["backgrounds"]:
        raise ValueError(
            f"channel {channel['name']}: {component!r} is not a pseudo-data component; "
            f"backgrounds: {sorted(channel['backgrounds'])}"
        )
    entry = channel["backgrounds"][component]
    return component, entry["process"], entry.get("options", {})


@dataclasses.dataclass(frozen=True)
class Pilot:
    """A component's pilot run: cross section (fb) and the oversampling its weights need."""

    xsec_fb: float
    oversample: float
    weight_fraction_above_bound: float


def unweighting_oversample(
    weights: np.ndarray, *, tolerance: float, minimum: float = 1.0, maximum: float = 1e3
) -> tuple[float, float]:
    """Oversampling (generated events per expected data event) that unweights ``weights``.

    With ``oversample`` = B generated events per expected event, an event of relative weight
    r = w / mean(w) is accepted with probability r / B (accept-reject against the maximum
    weight B x mean). B is the smallest bound such that the weight above it, sum(max(r - B, 0))
    / sum(r), is at most ``tolerance`` (that weight is lost: events above the bound are accepted
    with probability 1), clipped to [``minimum``, ``maximum``].

    Returns:
        (oversample, the fraction of weight above that bound in ``weights``).
    """
    if len(weights) == 0 or weights.sum() <= 0:
        return float(minimum), 0.0
    r = np.sort(np.asarray(weights, float) / np.mean(weights))[::-1]
    total = r.sum()

    def excess(bound: float) -> float:
        return float(np.clip(r - bound, 0.0, None).sum() / total)

    lo, hi = 1.0, max(float(r[0]), 1.0)
    for _ in range(60):  # bisection in log(bound): excess() decreases monotonically
        mid = np.sqrt(lo * hi)
        lo, hi = (mid, hi) if excess(mid) > tolerance else (lo, mid)
    bound = float(np.clip(hi, minimum, maximum))
    return bound, excess(bound)


def pilot_run(
    process_name: str,
    options: dict,
    *,
    sqrt_s: float,
    seed: int,
    names: tuple,
    pilot_events: int,
    tolerance: float = 1e-3,
    min_oversample: float = 1.0,
    max_oversample: float = 1e3,
    escape: Escape | None = None,
) -> Pilot:
    """Cross section (fb) of a component's generated phase space and its unweighting bound.

    From a pilot run on the component's own stream: it only sizes a data chunk (how many events
    to generate); the chunk is normalised by its own events, so the pseudo-data need no MC
    sample (and run alongside them on a cluster). Unweighted generators give the cross section
    with every event: one event suffices, and they need no oversampling.
    """
    unweighted = _equal_weights(process_name, escape)
    n = 1 if unweighted else pilot_events
    events = _generate_chunk(process_name, n, seed, (*names, "pilot"), sqrt_s=sqrt_s, options=options, escape=escape)
    if unweighted:
        return Pilot(float(events.weight.sum()), 1.0, 0.0)
    oversample, above = unweighting_oversample(
        events.weight, tolerance=tolerance, minimum=min_oversample, maximum=max_oversample
    )
    return Pilot(float(events.weight.sum()), oversample, above)


def pilot_xsec_fb(
    process_name: str, options: dict, *, sqrt_s: float, seed: int, names: tuple, pilot_events: int
) -> float:
    """Cross section (fb) of a component's generated phase space from its pilot run."""
    return pilot_run(process_name, options, sqrt_s=sqrt_s, seed=seed, names=names, pilot_events=pilot_events).xsec_fb


def data_chunk_events(
    *,
    xsec_fb: float,
    luminosity_fb: float,
    n_chunks: int,
    unweighted: bool,
    oversample: float,
    rng: np.random.Generator,
) -> int:
    """Events to generate for one data chunk: N ~ Poisson(oversample x sigma L / K).

    Unweighted generators (``oversample`` 1): the K chunks add up to Poisson(sigma L). Weighted
    generators: Poisson(``oversample`` x sigma L / K) events, then accept-reject
    (:func:`accept_unweighted`); thinning a Poisson number of events keeps the count in every
    region Poisson-distributed.
    """
    mean = xsec_fb * luminosity_fb / n_chunks * (1.0 if unweighted else oversample)
    return int(rng.poisson(mean))


def accept_unweighted(
    event_xsec_fb: np.ndarray, *, luminosity_fb: float, n_chunks: int, mean_generated: float, rng: np.random.Generator
) -> tuple[np.ndarray, float]:
    """Accept-reject unweighting of weighted events into pseudo-data: every truth event at most once.

    ``event_xsec_fb`` is each event's own estimate of the cross section (its weight times the
    number of events generated with it). Of a Poisson number of events with mean
    ``mean_generated``, event i is kept with probability p_i = sigma_i L / (K mean_generated),
    so the kept events are a Poisson process with the intensity of the weighted model: the count
    in every region is Poisson around its expectation. p_i above 1 (weights above the bound) is
    clipped; the weight lost there is returned.

    Returns:
        (mask of kept events, expected events lost above the bound).
    """
    p = np.asarray(event_xsec_fb, float) * luminosity_fb / n_chunks / max(mean_generated, 1e-300)
    return rng.random(len(p)) < p, float(np.clip(p - 1.0, 0.0, None).sum())


@dataclasses.dataclass(frozen=True)
class Unweighting:
    """How weighted generators are unweighted into pseudo-data (channel ``data`` keys).

    Attributes:
        pilot_events: events of the pilot run that sizes a chunk and sets the weight bound.
        tolerance: largest fraction of the weight allowed above the bound (``data.unweighting_tolerance``).
        min_oversample: lower limit of the generated events per expected event (``data.oversample``).
        max_oversample: upper limit (``data.max_oversample``); above it more weight than
            ``tolerance`` is lost, and the metadata say how much.
    """

    pilot_events: int = 20_000
    tolerance: float = 1e-3
    min_oversample: float = 1.0
    max_oversample: float = 1e3

    @classmethod
    def from_config(cls, data: dict) -> Unweighting:
        """From a validated channel ``data`` section."""
        return cls(
            int(data["pilot_events"]),
            float(data["unweighting_tolerance"]),
            float(data["oversample"]),
            float(data["max_oversample"]),
        )


def produce_data_chunk(
    out_path: str | os.PathLike,
    *,
    channel: dict,
    experiment: dict,
    components: list[str],
    chunk: int,
    n_chunks: int,
    seed: int,
    unweighting: Unweighting = Unweighting(),
    chunk_events: int = 500_000,
    compression: str = "lz4",
) -> dict:
    """One chunk of the pseudo-data: a 1/``n_chunks`` slice of the luminosity with every component.

    Like a run of real data, a chunk holds all processes (the backgrounds and an injected signal),
    one after the other. Each component draws from its own random streams (channel, ``data``,
    component, chunk), so its events do not depend on the other components. Independent of the
    MC samples: a pilot run sizes each component and sets its unweighting bound
    (:func:`pilot_run`), its own events give its normalisation. Every truth event enters the
    pseudo-data at most once (:func:`accept_unweighted`).

    Args:
        out_path: output ROOT file.
        channel: validated channel config.
        experiment: validated experiment config.
        components: background sample names, and the signal sample named by ``data.inject_signal``.
        chunk: chunk index (0-based) of ``n_chunks``.
        n_chunks: chunks of the luminosity.
        seed: global seed.
        unweighting: pilot size and weight bound of weighted generators.
        chunk_events: largest number of events generated at once.
        compression: ROOT compression.

    Returns:
        The chunk's metadata; ``components`` holds each component's cross section, expected and
        drawn events, oversampling and the fraction of its weight above the unweighting bound.
    """
    written, parts = 0, []
    with rootio.recreate(out_path, compression=compression) as out:
        for component in components:
            part = _write_data_component(
                out,
                channel=channel,
                experiment=experiment,
                component=component,
                chunk=chunk,
                n_chunks=n_chunks,
                seed=seed,
                unweighting=unweighting,
                chunk_events=chunk_events,
                first=written == 0,
            )
            written += part["events"]
            parts.append(part)
        metadata = {
            "channel": channel["name"],
            "sample": "data",
            "chunk": chunk,
            "n_chunks": n_chunks,
            "is_data": True,
            "luminosity_fb": channel["luminosity_fb"],
            "events": written,
            "expected": sum(p["expected"] for p in parts),
            "components": parts,
            "experiment": experiment["name"],
            "sqrt_s": beams_of(experiment).sqrt_s,
            "versions": rootio.package_versions(),
        }
        rootio.write_metadata(out, metadata)
    log.info("data chunk %d of %d: %d events (expected %.1f)", chunk, n_chunks, written, metadata["expected"])
    return metadata


class ComponentDraw:
    """One component's share of a pseudo-data chunk, drawn sub-chunk by sub-chunk.

    The pilot run (:func:`pilot_run`, on the component's own stream) is made here unless
    ``pilot`` is given (ensembles of pseudo-datasets share one). Iterate :meth:`batches` for
    (sub-chunk names, unweighted TruthEvents); :meth:`record` then gives the cross section,
    pilot, expected, generated and drawn events, oversampling and the fraction of the weight
    above the unweighting bound.
    """

    def __init__(
        self,
        process_name: str,
        options: dict,
        *,
        luminosity_fb: float,
        n_chunks: int,
        seed: int,
        names: tuple,
        sqrt_s: float,
        unweighting: Unweighting,
        pilot: Pilot | None = None,
        escape: Escape | None = None,
    ):
        self.process_name, self.options, self.names, self.seed, self.sqrt_s = process_name, options, names, seed, sqrt_s
        self.escape = escape
        self.equal_weights = _equal_weights(process_name, escape)
        self.luminosity_fb, self.n_chunks, self.unweighting = luminosity_fb, n_chunks, unweighting
        self.process = get_process(process_name)
        u = unweighting
        self.pilot = pilot or pilot_run(
            process_name,
            options,
            sqrt_s=sqrt_s,
            seed=seed,
            names=names,
            pilot_events=u.pilot_events,
            tolerance=u.tolerance,
            min_oversample=u.min_oversample,
            max_oversample=u.max_oversample,
            escape=escape,
        )
        self.rng = rng_for(seed, *names, "counts")
        self.n_generate = data_chunk_events(
            xsec_fb=self.pilot.xsec_fb,
            luminosity_fb=luminosity_fb,
            n_chunks=n_chunks,
            unweighted=self.equal_weights,
            oversample=self.pilot.oversample,
            rng=self.rng,
        )
        self.mean_generated = self.pilot.xsec_fb * luminosity_fb / n_chunks * self.pilot.oversample
        self.sum_xsec = self.lost = 0.0
        self.drawn = 0

    def batches(self, chunk_events: int):
        """Generate in sub-chunks of at most ``chunk_events`` (memory stays flat); yield the kept events."""
        sizes = chunk_sizes(self.n_generate, chunk_events) if self.n_generate else []
        for sub, n in enumerate(progress_of(sizes, desc="/".join(map(str, self.names)), unit="chunk")):
            sub_names = (*self.names, sub)
            events = _generate_chunk(
                self.process_name, n, self.seed, sub_names, sqrt_s=self.sqrt_s, options=self.options, escape=self.escape
            )
            if self.equal_weights:
                keep = np.ones(len(events), bool)
            else:
                event_xsec = events.weight * n  # each event's own estimate of sigma
                self.sum_xsec += float(event_xsec.sum())
                keep, lost = accept_unweighted(
                    event_xsec,
                    luminosity_fb=self.luminosity_fb,
                    n_chunks=self.n_chunks,
                    mean_generated=self.mean_generated,
                    rng=self.rng,
                )
                self.lost += lost
            picked = events.take(np.flatnonzero(keep))
            self.drawn += len(picked)
            yield sub_names, TruthEvents(picked.pdg, picked.p4, picked.invisible, np.ones(len(picked)))

    def record(self) -> dict:
        """The component's record in the chunk metadata (after :meth:`batches`)."""
        pilot, label = self.pilot, "/".join(map(str, self.names))
        if self.equal_weights:
            xsec_fb = pilot.xsec_fb
        else:
            xsec_fb = self.sum_xsec / self.n_generate if self.n_generate else 0.0
        expected = xsec_fb * self.luminosity_fb / self.n_chunks
        above = self.lost / expected if expected > 0 else 0.0
        if pilot.xsec_fb <= 0.0:
            log.warning(
                "%s: the pilot run of %d events found no cross section; raise data.pilot_events",
                label,
                self.unweighting.pilot_events,
            )
        if above > 10 * self.unweighting.tolerance:
            log.warning(
                "%s: %.3g of the weight lies above the unweighting bound (oversample %.4g): "
                "raise data.max_oversample or data.pilot_events",
                label,
                above,
                pilot.oversample,
            )
        return {
            "xsec_fb": xsec_fb,
            "pilot_xsec_fb": pilot.xsec_fb,
            "expected": expected,
            "events": self.drawn,
            "generated_events": self.n_generate,
            "oversample": pilot.oversample,
            "weight_fraction_above_bound": above,
            "pilot_weight_fraction_above_bound": pilot.weight_fraction_above_bound,
        }


def _write_data_component(
    out,
    *,
    channel: dict,
    experiment: dict,
    component: str,
    chunk: int,
    n_chunks: int,
    seed: int,
    unweighting: Unweighting,
    chunk_events: int,
    first: bool,
) -> dict:
    """Draw one component of a pseudo-data chunk and append it to ``out``; returns its record."""
    component, process_name, options = data_component(channel, component)
    names = (channel["name"], "data", component, chunk)
    draw = ComponentDraw(
        process_name,
        options,
        luminosity_fb=channel["luminosity_fb"],
        n_chunks=n_chunks,
        seed=seed,
        names=names,
        sqrt_s=beams_of(experiment).sqrt_s,
        unweighting=unweighting,
        escape=Escape.of(channel["backgrounds"].get(component, {}), experiment, f"{channel['name']}/data/{component}"),
    )
    written = 0
    for sub_names, events in draw.batches(chunk_events):
        if len(events):
            _write_chunk(out, events, experiment, seed, sub_names, first=first and written == 0)
            written += len(events)
    record = draw.record()
    record = {
        "component": component,
        **record,
        "seed": seed_for(seed, *names),
        "generator": get_process(process_name).generator_name,
    }
    log.info(
        "data/%s chunk %d: %d events (expected %.1f) from %d generated "
        "(oversample %.3g, weight above bound %.2g); sigma = %.4g fb (pilot %.4g fb)",
        component,
        chunk,
        written,
        record["expected"],
        record["generated_events"],
        record["oversample"],
        record["weight_fraction_above_bound"],
        record["xsec_fb"],
        record["pilot_xsec_fb"],
    )
    return record
