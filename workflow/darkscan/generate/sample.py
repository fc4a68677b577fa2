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

import logging
import math
import os

import numpy as np
from tqdm import tqdm

from darkscan import config as cfg
from darkscan import rootio
from darkscan.experiments.detector import beams_of, simulate
from darkscan.generate.events import TruthEvents
from darkscan.generate.registry import get_process
from darkscan.seeds import rng_for, seed_for

log = logging.getLogger(__name__)


def chunk_sizes(n_events: int, chunk_events: int) -> list[int]:
    """Split ``n_events`` into chunks of at most ``chunk_events``."""
    n_chunks = max(1, math.ceil(n_events / chunk_events))
    base, extra = divmod(n_events, n_chunks)
    return [base + (i < extra) for i in range(n_chunks)]


def _generate_chunk(process_name: str, n: int, seed: int, names: tuple, *, sqrt_s: float, options: dict) -> TruthEvents:
    process = get_process(process_name)
    return process.generate(n, rng_for(seed, *names), sqrt_s=sqrt_s, **options)


def _write_chunk(out, events: TruthEvents, experiment: dict, seed: int, names: tuple, first: bool) -> None:
    payload = simulate(events, experiment, rng_for(seed, *names, "detector"))
    rootio.write_events(out, payload, first=first)


def produce_sample(out_path: str | os.PathLike, *, channel: dict, experiment: dict, sample: str, seed: int, chunk_events: int, compression: str = "lz4", progress: bool = True) -> dict:
    """Generate one MC sample of a channel and write it; returns the file metadata.

    The cross section in the metadata is the sum of the weights; its error is sqrt(sum w^2).
    """
    entry = cfg.sample_config(channel, sample)
    process = get_process(entry["process"])
    sqrt_s = beams_of(experiment).sqrt_s
    sizes = chunk_sizes(entry["events"], chunk_events)
    sum_w = sum_w2 = 0.0
    with rootio.recreate(out_path, compression=compression) as out:
        for i, n in enumerate(tqdm(sizes, desc=f"{channel['name']}/{sample}", unit="chunk", disable=not progress)):
            names = (channel["name"], sample, i)
            events = _generate_chunk(entry["process"], n, seed, names, sqrt_s=sqrt_s, options=entry.get("options", {}))
            # Each chunk's weights sum to its own estimate of sigma; average the chunks.
            events = TruthEvents(events.pdg, events.p4, events.invisible, events.weight * (n / entry["events"]))
            sum_w += float(events.weight.sum())
            sum_w2 += float((events.weight**2).sum())
            _write_chunk(out, events, experiment, seed, names, first=(i == 0))
        metadata = {
            "channel": channel["name"],
            "sample": sample,
            "process": entry["process"],
            "options": entry.get("options", {}),
            "is_data": False,
            "xsec_fb": sum_w,
            "xsec_err_fb": math.sqrt(sum_w2),
            "generated_events": entry["events"],
            "equivalent_luminosity_fb": (sum_w**2 / sum_w2) / sum_w if sum_w > 0 else 0.0,
            "seed": seed,
            "chunk_seeds": [seed_for(seed, channel["name"], sample, i) for i in range(len(sizes))],
            "generator": process.generator_name,
            "experiment": experiment["name"],
            "sqrt_s": sqrt_s,
            "versions": rootio.package_versions(),
        }
        if "mass" in entry:
            metadata["mass"] = entry["mass"]
        if "mass2" in entry:
            metadata["mass2"] = entry["mass2"]
        rootio.write_metadata(out, metadata)
    log.info("%s/%s: %d events, sigma = %.4g +- %.2g fb", channel["name"], sample, entry["events"], sum_w, math.sqrt(sum_w2))
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
        raise ValueError(f"channel {channel['name']}: {component!r} is not a pseudo-data component; backgrounds: {sorted(channel['backgrounds'])}")
    entry = channel["backgrounds"][component]
    return component, entry["process"], entry.get("options", {})


def pilot_xsec_fb(process_name: str, options: dict, *, sqrt_s: float, seed: int, names: tuple, pilot_events: int) -> float:
    """Cross section (fb) of a component's generated phase space from a pilot run on its own stream.

    It only sizes a data chunk (how many events to generate); the chunk is normalised by its own
    events, so the pseudo-data needs no MC sample (and runs alongside them on a cluster).
    Unweighted generators give the cross section with every event: one event suffices.
    """
    n = 1 if get_process(process_name).unweighted else pilot_events
    events = _generate_chunk(process_name, n, seed, (*names, "pilot"), sqrt_s=sqrt_s, options=options)
    return float(events.weight.sum())


def data_chunk_events(*, xsec_fb: float, luminosity_fb: float, n_chunks: int, unweighted: bool, oversample: float, rng: np.random.Generator) -> int:
    """Events to generate for one data chunk.

    Unweighted generators: N ~ Poisson(sigma L / K), so the K chunks add up to Poisson(sigma L).
    Weighted generators: ``oversample`` x sigma L / K events, then Poisson-thinned (see
    :func:`poisson_copies`).
    """
    mean = xsec_fb * luminosity_fb / n_chunks
    return int(rng.poisson(mean)) if unweighted else max(1, math.ceil(oversample * mean))


def poisson_copies(weights_fb: np.ndarray, *, luminosity_fb: float, n_chunks: int, rng: np.random.Generator) -> np.ndarray:
    """Copies of each weighted event in the pseudo-data: k_i ~ Poisson(w_i L / K).

    The result is a Poisson process whose intensity is the generated (weighted) model: the count
    in any region is Poisson-distributed around the MC expectation of that chunk. Events drawn
    more than once are kept as separate events (their detector response is simulated anew).
    """
    return rng.poisson(weights_fb * luminosity_fb / n_chunks)


def produce_data_chunk(out_path: str | os.PathLike, *, channel: dict, experiment: dict, components: list[str], chunk: int, n_chunks: int, seed: int, oversample: float = 2.0, pilot_events: int = 20_000, chunk_events: int = 500_000, compression: str = "lz4") -> dict:
    """One chunk of the pseudo-data: a 1/``n_chunks`` slice of the luminosity with every component.

    Like a run of real data, a chunk holds all processes (the backgrounds and an injected signal),
    one after the other. Each component draws from its own random streams (channel, ``data``,
    component, chunk), so its events do not depend on the other components. Independent of the
    MC samples: a pilot run sizes each component (:func:`pilot_xsec_fb`), its own events give its
    normalisation.

    Args:
        out_path: output ROOT file.
        channel: validated channel config.
        experiment: validated experiment config.
        components: background sample names, and the signal sample named by ``data.inject_signal``.
        chunk: chunk index (0-based) of ``n_chunks``.
        n_chunks: chunks of the luminosity.
        seed: global seed.
        oversample: generated events per expected data event for weighted generators.
        pilot_events: events of the pilot run of weighted generators.
        chunk_events: largest number of events generated at once.
        compression: ROOT compression.

    Returns:
        The chunk's metadata; ``components`` holds each component's cross section, expected and
        drawn events.
    """
    written, parts = 0, []
    with rootio.recreate(out_path, compression=compression) as out:
        for component in components:
            part = _write_data_component(out, channel=channel, experiment=experiment, component=component, chunk=chunk, n_chunks=n_chunks, seed=seed, oversample=oversample, pilot_events=pilot_events, chunk_events=chunk_events, first=written == 0)
            written += part["events"]
            parts.append(part)
        metadata = {"channel": channel["name"], "sample": "data", "chunk": chunk, "n_chunks": n_chunks, "is_data": True, "luminosity_fb": channel["luminosity_fb"], "events": written, "expected": sum(p["expected"] for p in parts), "components": parts, "experiment": experiment["name"], "sqrt_s": beams_of(experiment).sqrt_s, "versions": rootio.package_versions()}
        rootio.write_metadata(out, metadata)
    log.info("data chunk %d of %d: %d events (expected %.1f)", chunk, n_chunks, written, metadata["expected"])
    return metadata


def _write_data_component(out, *, channel: dict, experiment: dict, component: str, chunk: int, n_chunks: int, seed: int, oversample: float, pilot_events: int, chunk_events: int, first: bool) -> dict:
    """Draw one component of a pseudo-data chunk and append it to ``out``; returns its record."""
    lumi = channel["luminosity_fb"]
    component, process_name, options = data_component(channel, component)
    process = get_process(process_name)
    names = (channel["name"], "data", component, chunk)
    sqrt_s = beams_of(experiment).sqrt_s
    pilot_fb = pilot_xsec_fb(process_name, options, sqrt_s=sqrt_s, seed=seed, names=names, pilot_events=pilot_events)
    rng = rng_for(seed, *names, "counts")
    n_generate = data_chunk_events(xsec_fb=pilot_fb, luminosity_fb=lumi, n_chunks=n_chunks, unweighted=process.unweighted, oversample=oversample, rng=rng)
    xsec_fb = pilot_fb if process.unweighted else 0.0
    written = 0
    # Generate in sub-chunks of at most chunk_events so that memory stays flat.
    sizes = chunk_sizes(n_generate, chunk_events) if n_generate else []
    for sub, n in enumerate(tqdm(sizes, desc=f"{channel['name']}/data/{component}/{chunk}", unit="chunk", disable=len(sizes) < 2)):
        sub_names = (*names, sub)
        events = _generate_chunk(process_name, n, seed, sub_names, sqrt_s=sqrt_s, options=options)
        if process.unweighted:
            index = np.arange(len(events))
        else:
            # each sub-chunk's weights estimate sigma; its share of the chunk is n / n_generate
            weights = events.weight * (n / n_generate)
            xsec_fb += float(weights.sum())
            index = np.repeat(np.arange(len(events)), poisson_copies(weights, luminosity_fb=lumi, n_chunks=n_chunks, rng=rng))
        if len(index):
            picked = events.take(index)
            ones = TruthEvents(picked.pdg, picked.p4, picked.invisible, np.ones(len(picked)))
            _write_chunk(out, ones, experiment, seed, sub_names, first=first and written == 0)
            written += len(index)
    if pilot_fb <= 0.0:
        log.warning("data/%s chunk %d: the pilot run of %d events found no cross section; raise data.pilot_events", component, chunk, pilot_events)
    record = {"component": component, "xsec_fb": xsec_fb, "pilot_xsec_fb": pilot_fb, "expected": xsec_fb * lumi / n_chunks, "events": written, "generated_events": n_generate, "seed": seed_for(seed, *names), "generator": process.generator_name}
    log.info("data/%s chunk %d: %d events (expected %.1f) from %d generated; sigma = %.4g fb (pilot %.4g fb)", component, chunk, written, record["expected"], n_generate, xsec_fb, pilot_fb)
    return record
