"""The HEPData submission of every enabled channel, built with hepdata_lib and validated.

Per channel: cross-section limits, coupling limits (one table per coupling scenario), local
significance, the look-elsewhere result (global significance), cut flow and systematic
uncertainties; each limit table carries its figure. The channel's pyhf workspaces go in one
tarball (``<channel>_workspaces.tar.gz``, with an index of the hypotheses and the POI's
definition) attached as a HistFactory additional resource, as HEPData expects likelihoods. Table
names use the plain-text ``hepdata.title`` of the channel (and ``title`` of each coupling
scenario); descriptions say whether the "observed" values are pseudo-data.

hepdata_lib pitfalls handled here:

* ``Submission.create_files`` writes ``submission.tar.gz`` into the *current directory* and tars
  every ``*.yaml``/``*.png`` below ``outdir``: it runs in a fresh staging directory (chdir in a
  context manager), and the shipped tarball is re-packed deterministically from that directory.
* ``Table.add_image`` shells out to ImageMagick ``convert`` (not a Python dependency, absent on many
  machines) and names images by their base name (``limits_xsec.png`` of two channels would clash).
  The figures are already PNG, so they are attached exactly as ``write_images`` would attach them
  ("Image file" + "Thumbnail image file" resources, thumbnail made with Pillow), under names
  prefixed by the channel; the PDF goes along as an additional resource.
* Missing values (a failed fit) must not be NaN in HEPData YAML: they are written as ``'-'``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import pathlib
import shutil
import tempfile
from collections.abc import Mapping

import pandas as pd
from hepdata_lib import Submission, Table, Uncertainty, Variable
from hepdata_validator.full_submission_validator import FullSubmissionValidator

from darkscan.archive.tarfiles import TarEntry, write_tar
from darkscan.beams import Beams
from darkscan.stats.scan import MEASUREMENT_NAME

log = logging.getLogger(__name__)

SIGMA_SUFFIXES = ("exp_m2", "exp_m1", "exp", "exp_p1", "exp_p2")
MISSING = "-"

#: what each ``limit_method`` of limits.csv is, for the table descriptions
LIMIT_METHODS = {
    "cls_asymptotic_engine": "CLs, asymptotic formulae",
    "cls_asymptotic_pyhf": "CLs, asymptotic formulae (pyhf)",
    "cls_asymptotic_closed_form": "CLs, asymptotic formulae of a counting experiment",
    "cls_toys": "CLs from pseudo-experiments",
    "bayesian": "Bayesian credible limit, flat prior on the cross section",
}
THUMBNAIL_SIZE = (240, 179)  # as hepdata_lib's ``convert -thumbnail 240x179``


class HEPDataValidationError(ValueError):
    """The submission does not pass hepdata-validator; the message lists the validator's messages."""


def _value(x):
    return MISSING if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _ok(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _table_name(title: str, what: str) -> str:
    name = f"{what} ({title})"
    if len(name) > 64:  # hepdata_lib's limit; the data file is named after the table
        raise ValueError(
            f"HEPData table name {name!r} is longer than 64 characters: shorten hepdata.title or the scenario's title"
        )
    return name


def _unique(items) -> list:
    """``items`` without repeats, in their first order (HEPData phrases)."""
    return list(dict.fromkeys(items))


class _ChannelTables:
    """The tables of one channel."""

    def __init__(self, name: str, channel: Mapping, experiment: Mapping, results: pathlib.Path, staging: pathlib.Path):
        self.name, self.channel, self.experiment, self.results, self.staging = (
            name,
            channel,
            experiment,
            results,
            staging,
        )
        meta = channel.get("hepdata") or {}
        self.reaction = meta.get("reaction", f"E+ E- --> {channel['signal']['process'].upper()}")
        self.mass_label = meta.get("mass_label", "Mass")
        self.xsec_label = meta.get("xsec_label", "Cross section")
        self.phrases = list(meta.get("phrases", []))
        self.intro = meta.get("description", f"Search channel {name}.")
        self.title = meta.get("title", name)
        self.pseudo = channel["data"]["source"] == "pseudo"
        self.observed = "Observed (pseudo-data)" if self.pseudo else "Observed"
        self.sqrt_s = round(Beams(**experiment["beams"]).sqrt_s, 3)
        self.lumi = float(channel["luminosity_fb"])
        self.cl = float(channel["cl"])
        self.cl_text = f"{100 * self.cl:.0f}%"
        # "90% CL", or "90% credibility" for Bayesian limits (fit.limit), as the plots say
        self.level = f"{self.cl_text} {'credibility' if channel['fit'].get('limit') == 'bayesian' else 'CL'}"
        self.experiment_label = experiment.get("label", experiment["name"])
        self.limits = pd.read_csv(results / "limits.csv")

    # -- common pieces -------------------------------------------------------------------------
    def _context(self) -> str:
        data = (
            " The 'observed' values are computed on background-only pseudo-data drawn from the simulation "
            "(darkscan), not on recorded data."
            if self.pseudo
            else ""
        )
        return (
            f"{self.intro} {self.experiment_label}, $\\sqrt{{s}}$ = {self.sqrt_s} GeV, "
            f"integrated luminosity {self.lumi:g} fb$^{{-1}}$.{data}"
        )

    def _method_note(self) -> str:
        """The statistic of the limits, with how many hypotheses use each (limits.csv ``limit_method``)."""
        if "limit_method" not in self.limits:
            return "Statistic: CLs, asymptotic formulae."
        counts = self.limits["limit_method"].astype(str).value_counts(sort=False)
        parts = [
            f"{LIMIT_METHODS.get(method, method)} ({n} {'hypothesis' if n == 1 else 'hypotheses'})"
            for method, n in counts.items()
        ]
        return "Statistic: " + "; ".join(parts) + "."

    def _status_note(self) -> str:
        status = self.limits["status"].astype(str)
        if (status == "ok").all():
            return "All fits converged at the first attempt (status 'ok')."
        parts = []
        for value in sorted(set(status) - {"ok"}):
            masses = ", ".join(f"{m:g}" for m in self.limits.loc[status == value, "mass"])
            parts.append(f"status '{value}' at mass {masses} GeV")
        note = "Fit status other than 'ok' (kept in the table, see the 'Fit status' column): " + "; ".join(parts) + "."
        if (status == "failed").any():
            note += f" Points with status 'failed' failed every fit attempt; their limits are given as '{MISSING}'."
        return note

    def _keywords(self, table: Table, observables: list[str], phrases: list[str] = ()) -> None:
        table.keywords["observables"] = observables
        table.keywords["reactions"] = [self.reaction]
        table.keywords["cmenergies"] = [self.sqrt_s]
        table.keywords["phrases"] = _unique([*self.phrases, *phrases])

    def _qualify(self, variable: Variable) -> None:
        variable.add_qualifier("SQRT(S)", self.sqrt_s, "GeV")
        variable.add_qualifier("LUMINOSITY", self.lumi, "fb$^{-1}$")
        variable.add_qualifier("CL", self.cl_text)

    def _mass(self) -> Variable:
        return Variable(
            self.mass_label,
            is_independent=True,
            is_binned=False,
            units="GeV",
            values=[float(m) for m in self.limits["mass"]],
        )

    def _add_masses(self, table: Table) -> None:
        """The mass column, and for two-mass scans (limits.csv with ``mass2``) the second one."""
        table.add_variable(self._mass())
        if "mass2" in self.limits:
            label = (self.channel.get("hepdata") or {}).get("mass2_label", "Mass 2")
            table.add_variable(
                Variable(
                    label,
                    is_independent=True,
                    is_binned=False,
                    units="GeV",
                    values=[float(m) for m in self.limits["mass2"]],
                )
            )

    def _status(self) -> Variable | None:
        status = self.limits["status"].astype(str)
        if (status == "ok").all():
            return None
        return Variable("Fit status", is_independent=False, is_binned=False, values=list(status))

    def _figure(self, table: Table, stem: str) -> None:
        """Attach plots/<stem>.png (image + thumbnail) and plots/<stem>.pdf, named <channel>_<stem>."""
        png, pdf = self.results / "plots" / f"{stem}.png", self.results / "plots" / f"{stem}.pdf"
        base = f"{self.name}_{stem}"
        image = self.staging / f"{base}.png"
        thumb = self.staging / f"thumb_{base}.png"
        shutil.copyfile(png, image)
        _thumbnail(png, thumb)
        table.add_additional_resource("Image file", str(image), copy_file=True)
        table.add_additional_resource("Thumbnail image file", str(thumb), copy_file=True)
        if pdf.is_file():
            staged_pdf = self.staging / f"{base}.pdf"
            shutil.copyfile(pdf, staged_pdf)
            table.add_additional_resource(f"Figure {stem} as PDF", str(staged_pdf), copy_file=True)

    def _limit_variables(self, table: Table, prefix: str, label: str, units: str) -> None:
        frame = self.limits
        observed = Variable(
            f"{self.observed} {self.level} upper limit on {label}",
            is_independent=False,
            is_binned=False,
            units=units,
            values=[_value(x) for x in frame[f"{prefix}_obs"]],
        )
        expected = Variable(
            f"Expected {self.level} upper limit on {label}",
            is_independent=False,
            is_binned=False,
            units=units,
            values=[_value(x) for x in frame[f"{prefix}_exp"]],
            zero_uncertainties_warning=False,
        )
        for sigma, (lo, hi) in (("1", ("exp_m1", "exp_p1")), ("2", ("exp_m2", "exp_p2"))):
            band = Uncertainty(f"Expected $\\pm {sigma}\\sigma$", is_symmetric=False)
            values = []
            for med, down, up in zip(
                frame[f"{prefix}_exp"], frame[f"{prefix}_{lo}"], frame[f"{prefix}_{hi}"], strict=False
            ):
                values.append(
                    (float(down) - float(med), float(up) - float(med)) if all(map(_ok, (med, down, up))) else None
                )
            band.values = [(0.0, 0.0) if v is None else v for v in values]
            # a failed point ('-') gets no error entry: hepdata_lib skips None uncertainty values
            band._values = [None if v is None else band.values[i] for i, v in enumerate(values)]
            expected.add_uncertainty(band)
        for variable in (observed, expected):
            self._qualify(variable)
            table.add_variable(variable)
        status = self._status()
        if status is not None:
            table.add_variable(status)

    # -- tables ----------------------------------------------------------------------------------
    def xsec(self) -> Table:
        table = Table(_table_name(self.title, "Cross-section limits"))
        table.description = (
            f"{self._context()} Observed and expected {self.level} upper limits "
            f"on {self.xsec_label} versus the mass hypothesis, with the $\\pm 1\\sigma$ and $\\pm 2\\sigma$ bands "
            f"of the expected limit as asymmetric errors. {self._method_note()} {self._status_note()}"
        )
        table.location = f"Figure limits_xsec of channel {self.name}"
        self._keywords(table, ["SIG", "CLS"], ["Cross section", "Upper limit"])
        self._add_masses(table)
        self._limit_variables(table, "xsec", self.xsec_label, "fb")
        self._figure(table, "limits_xsec")
        return table

    def couplings(self) -> list[Table]:
        tables = []
        coupling = self.channel["coupling"]
        symbol = coupling.get("name", "coupling")
        for i, (scenario, entry) in enumerate(coupling["scenarios"].items()):
            label = entry.get("label", scenario)
            title = entry.get("title", scenario.replace("_", " "))
            table = Table(_table_name(self.title, f"Coupling limits, {title}"))
            table.description = (
                f"{self._context()} Observed and expected {self.level} upper limits on the coupling {symbol} "
                f"versus the mass hypothesis, scenario {scenario}: {label}; the $\\pm 1\\sigma$ and $\\pm 2\\sigma$ "
                "bands of the expected limit are asymmetric errors. "
                "The column 'BF' gives the branching fraction of the searched decay assumed at each mass. "
                f"{self._method_note()} {self._status_note()}"
            )
            table.location = f"Figure limits_coupling of channel {self.name}"
            self._keywords(table, ["CLS"], ["Coupling", "Upper limit"])
            self._add_masses(table)
            self._limit_variables(table, f"coupling_{scenario}", symbol, "")
            bf_column = f"bf_{scenario}"
            if bf_column in self.limits:
                table.add_variable(
                    Variable(
                        "BF", is_independent=False, is_binned=False, values=[_value(x) for x in self.limits[bf_column]]
                    )
                )
            if i == 0:
                self._figure(table, "limits_coupling")
            tables.append(table)
        return tables

    def significance(self) -> Table:
        table = Table(_table_name(self.title, "Local significance"))
        table.description = (
            f"{self._context()} Local p-value $p_0$ of the background-only hypothesis and local significance $Z$ "
            f"versus the mass hypothesis (no look-elsewhere correction). {self._status_note()}"
        )
        table.location = f"Figure local_significance of channel {self.name}"
        self._keywords(table, ["P0", "SIGNIFICANCE"], ["Local significance", "p-value"])
        self._add_masses(table)
        for column, name in (("p0_local", "Local $p_0$"), ("z_local", "Local significance $Z$")):
            variable = Variable(
                name, is_independent=False, is_binned=False, values=[_value(x) for x in self.limits[column]]
            )
            self._qualify(variable)
            table.add_variable(variable)
        status = self._status()
        if status is not None:
            table.add_variable(status)
        self._figure(table, "local_significance")
        return table

    def global_significance(self) -> Table:
        """The largest local excess and its global significance (``significance.json``)."""
        summary = json.loads((self.results / "significance.json").read_text())
        table = Table(_table_name(self.title, "Global significance"))
        table.description = (
            f"{self._context()} The largest local excess of the scan and its global significance: the "
            f"fraction of {summary['toys']} background-only pseudo-experiments, each put through the full scan, "
            "whose largest local significance reaches the observed one (never below the local p-value)."
        )
        table.location = f"significance.json of channel {self.name}"
        self._keywords(table, ["SIGNIFICANCE"], ["Global significance", "Look-elsewhere effect"])
        table.add_variable(
            Variable(
                self.mass_label, is_independent=True, is_binned=False, units="GeV", values=[summary["mass_at_max"]]
            )
        )
        if summary.get("mass2_at_max") is not None:
            label = (self.channel.get("hepdata") or {}).get("mass2_label", "Mass 2")
            table.add_variable(
                Variable(label, is_independent=True, is_binned=False, units="GeV", values=[summary["mass2_at_max"]])
            )
        for key, name in (
            ("z_local_max", "Largest local significance $Z_{\\mathrm{local}}$"),
            ("p_global", "Global p-value"),
            ("z_global", "Global significance $Z_{\\mathrm{global}}$"),
            ("toys", "Background-only pseudo-experiments"),
        ):
            variable = Variable(name, is_independent=False, is_binned=False, values=[_value(summary[key])])
            self._qualify(variable)
            table.add_variable(variable)
        return table

    def cutflow(self) -> Table:
        flow = pd.read_csv(self.results / "cutflow.csv", keep_default_na=False)
        table = Table(_table_name(self.title, "Cut flow"))
        data = "the pseudo-data counts" if self.pseudo else "the data counts"
        table.description = (
            f"{self._context()} Number of events after each selection step, cumulatively, for each sample: "
            f"MC samples weighted to the luminosity (errors: MC statistics), 'data' {data}."
        )
        table.location = f"Cut flow of channel {self.name} (validation notebook)"
        self._keywords(table, ["N"], ["Cut flow", "Event selection"])
        cuts = list(dict.fromkeys(flow["cut"]))
        labels = flow.drop_duplicates("cut").set_index("cut")["label"]
        table.add_variable(
            Variable("Selection step", is_independent=True, is_binned=False, values=[str(labels[c]) for c in cuts])
        )
        for sample, rows in flow.groupby("sample", sort=False):
            rows = rows.set_index("cut").reindex(cuts)
            variable = Variable(
                f"Events, {sample}",
                is_independent=False,
                is_binned=False,
                values=[_value(float(y)) for y in rows["yield"]],
            )
            if sample != "data":
                error = Uncertainty("MC stat.", is_symmetric=True)
                error.values = [float(e) if _ok(float(e)) else 0.0 for e in rows["yield_err"]]
                variable.add_uncertainty(error)
            variable.add_qualifier("SAMPLE", sample)
            variable.add_qualifier("LUMINOSITY", self.lumi, "fb$^{-1}$")
            table.add_variable(variable)
        return table

    def systematics(self) -> Table:
        syst = pd.read_csv(self.results / "systematics.csv", keep_default_na=False)
        table = Table(_table_name(self.title, "Systematic uncertainties"))
        table.description = (
            f"{self._context()} Systematic uncertainties entering the fit: relative size, the process they apply to, "
            f"the pyhf modifier type and how each was obtained ('{MISSING}': per-bin, no single value)."
        )
        table.location = f"Systematics table of channel {self.name} (systematics.tex)"
        self._keywords(table, ["SYS"], ["Systematic uncertainties"])
        table.add_variable(
            Variable("Source", is_independent=True, is_binned=False, values=list(syst["name"].astype(str)))
        )
        values = [float(v) if str(v).strip() else MISSING for v in syst["value"]]
        table.add_variable(Variable("Relative uncertainty", is_independent=False, is_binned=False, values=values))
        for column, name in (("applies_to", "Applies to"), ("modifier", "pyhf modifier"), ("derivation", "Derivation")):
            table.add_variable(
                Variable(
                    name,
                    is_independent=False,
                    is_binned=False,
                    values=[str(v) if str(v) else MISSING for v in syst[column]],
                )
            )
        return table

    def workspace_archive(self) -> tuple[str, pathlib.Path]:
        """(description, staged file) of the tarball of the channel's pyhf workspaces.

        1D scans keep one workspace per hypothesis; 2D scans a representative subset
        (``fit.pyhf_every``), so only there may there be fewer workspaces than rows. The tarball
        (deterministic) holds ``<channel>/mass_*.json`` and ``<channel>/index.json``: the POI,
        its unit and the masses of each file.
        """
        found = []
        for path in (self.results / "workspaces").glob("part*/mass_*.json"):
            masses = path.stem.removeprefix("mass_").split("_mass2_")
            found.append((tuple(float(m) for m in masses), path))
        two_masses = "mass2" in self.limits
        if (not two_masses and len(found) != len(self.limits)) or not found:
            raise FileNotFoundError(
                f"channel {self.name}: {len(found)} workspaces in {self.results / 'workspaces'} "
                f"for {len(self.limits)} mass points in limits.csv"
            )
        found.sort()
        index = {
            "channel": self.name,
            "poi": "mu",
            "poi_unit": "fb",
            "measurement": MEASUREMENT_NAME,
            "workspaces": [
                {"file": path.name, "mass": masses[0], **({"mass2": masses[1]} if len(masses) > 1 else {})}
                for masses, path in found
            ],
        }
        entries = [TarEntry(f"{self.name}/{path.name}", path.read_bytes()) for _, path in found]
        entries.append(TarEntry(f"{self.name}/index.json", (json.dumps(index, indent=1) + "\n").encode()))
        staged = self.staging / f"{self.name}_workspaces.tar.gz"
        with staged.open("wb") as stream:
            write_tar(stream, entries, compress=True)
        kind = (
            "one per mass hypothesis" if len(found) == len(self.limits) else "a representative subset of the hypotheses"
        )
        description = (
            f"pyhf (HistFactory JSON) workspaces of channel {self.name}: {len(found)} files, {kind} "
            f"(index.json lists their masses); POI mu = signal cross section times branching fraction in fb."
        )
        return description, staged


def _thumbnail(source: pathlib.Path, target: pathlib.Path) -> None:
    from PIL import Image

    with Image.open(source) as image:
        image.thumbnail(THUMBNAIL_SIZE)
        image.save(target, format="PNG")


def validation_messages(validator: FullSubmissionValidator) -> list[str]:
    return [
        f"{file}: {message.level}: {message.message}"
        for file, messages in sorted(validator.get_messages().items())
        for message in messages
    ]


def validate_submission(archive: str | os.PathLike) -> list[str]:
    """hepdata-validator's full-submission messages for ``archive`` (empty when valid)."""
    validator = FullSubmissionValidator()
    valid = validator.validate(archive=str(archive))
    messages = validation_messages(validator)
    if not valid and not messages:
        messages = [f"{archive}: invalid (no message from the validator)"]
    return messages


@contextlib.contextmanager
def _chdir(path: pathlib.Path):
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def build_submission(
    output: str | os.PathLike,
    *,
    channels: Mapping[str, tuple[Mapping, Mapping]],
    results_dir: str | os.PathLike = "results",
    comment: str | None = None,
) -> pathlib.Path:
    """Write the validated HEPData submission of ``channels`` to ``output`` (a .tar.gz).

    Args:
        output: the submission tarball to write.
        channels: channel name -> (resolved channel config, resolved experiment config).
        results_dir: where ``<channel>/limits.csv`` etc. are.
        comment: the submission's comment (abstract); a default names the channels.

    Raises:
        HEPDataValidationError: with the validator's messages, when the submission is invalid.
    """
    output = pathlib.Path(output).resolve()
    results_dir = pathlib.Path(results_dir).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".hepdata-", dir=output.parent) as tmp:
        tmp = pathlib.Path(tmp)
        staging, outdir = tmp / "staging", tmp / "submission"
        staging.mkdir()
        submission = Submission()
        submission.comment = comment or (
            "darkscan results for "
            + ", ".join(channels)
            + ": upper limits on the signal cross section and the model coupling, "
            "local and global significances, cut flows and systematic uncertainties; "
            "one archive of pyhf (HistFactory JSON) workspaces per channel (POI: the signal cross section in fb)."
        )
        for name, (channel, experiment) in channels.items():
            tables = _ChannelTables(name, channel, experiment, results_dir / name, staging)
            for table in (
                tables.xsec(),
                *tables.couplings(),
                tables.significance(),
                tables.global_significance(),
                tables.cutflow(),
                tables.systematics(),
            ):
                submission.add_table(table)
            description, path = tables.workspace_archive()
            submission.add_additional_resource(description, str(path), copy_file=True, file_type="HistFactory")
        with _chdir(tmp):  # create_files writes submission.tar.gz into the cwd
            with contextlib.redirect_stdout(io.StringIO()) as chatter:
                submission.create_files(str(outdir), validate=False, remove_old=True)
            for line in chatter.getvalue().splitlines():
                log.debug("hepdata_lib: %s", line)
        entries = [TarEntry.from_path(path.name, path) for path in sorted(outdir.iterdir()) if path.is_file()]
        packed = tmp / "submission.deterministic.tar.gz"
        with packed.open("wb") as stream:
            write_tar(stream, entries, compress=True)
        messages = validate_submission(packed)
        if messages:
            raise HEPDataValidationError(
                "HEPData submission is invalid (hepdata-validator):\n  " + "\n  ".join(messages)
            )
        os.replace(packed, output)
    log.info("wrote validated HEPData submission %s (%d tables)", output, len(submission.tables))
    return output
