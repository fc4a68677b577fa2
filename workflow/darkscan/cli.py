"""The ``darkscan`` command: cross sections, new channels, archive verification and rebuilds.

Subcommands are thin: each parses its arguments and calls one package function.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

log = logging.getLogger("darkscan")


def _xsec(args: argparse.Namespace) -> int:
    from darkscan.xsec import cross_section_for_cli

    result = cross_section_for_cli(
        args.experiment,
        args.process,
        mass=args.mass,
        mass2=args.mass2,
        coupling=args.coupling,
        theta_min=args.theta_min,
        theta_max=args.theta_max,
        events=args.events,
        seed=args.seed,
        config_directory=args.config_dir,
    )
    print(json.dumps(result, sort_keys=True))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from darkscan.archive.verify import verify_archive

    problems = verify_archive(args.archive)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{args.archive}: intact")
    return 1 if problems else 0


def _rebuild(args: argparse.Namespace) -> int:
    from darkscan.archive.rebuild import rebuild_archive

    return rebuild_archive(args.archive, args.directory, cores=args.cores)


def _new_channel(args: argparse.Namespace) -> int:
    from darkscan.scaffold import new_channel

    for path in new_channel(args.name, root=args.root, template=args.template):
        print(f"wrote {path}")
    print(f"plan it with: snakemake -n results/{args.name}/limits.csv")
    return 0


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("darkscan")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="darkscan", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    xsec = sub.add_parser("xsec", help="cross section of a process at an experiment, as one JSON object")
    xsec.add_argument("experiment", help="experiment name (config/experiments/<name>.yaml)")
    xsec.add_argument("process", help="registered process name")
    xsec.add_argument("--mass", type=float, help="mass in GeV (m_a, m_A', m_Z', ...)")
    xsec.add_argument("--mass2", type=float, help="second mass in GeV (m_h' for darkhiggsstrahlung)")
    xsec.add_argument(
        "--coupling", type=float, help="g_agg [1/GeV], epsilon, eps^2 alpha_D or g' depending on the process"
    )
    xsec.add_argument("--theta-min", type=float, help="CM polar-angle acceptance, degrees")
    xsec.add_argument("--theta-max", type=float, help="CM polar-angle acceptance, degrees")
    xsec.add_argument("--events", type=int, default=200_000, help="events for a Monte Carlo estimate (no closed form)")
    xsec.add_argument("--seed", type=int, default=1, help="seed of a Monte Carlo estimate")
    xsec.add_argument(
        "--config-dir",
        help="directory with experiments/<name>.yaml (default: ./config if it has them, else the package's own)",
    )
    xsec.set_defaults(func=_xsec)

    verify = sub.add_parser("verify", help="check every checksum of a results archive")
    verify.add_argument("archive", help="path of darkscan-*.tar.gz")
    verify.set_defaults(func=_verify)

    rebuild = sub.add_parser("rebuild", help="unpack an archive's code and config into DIR and rerun the workflow")
    rebuild.add_argument("archive")
    rebuild.add_argument("directory")
    rebuild.add_argument("--cores", default="all")
    rebuild.set_defaults(func=_rebuild)
    scaffold = sub.add_parser(
        "new-channel", help="scaffold a new bump-hunt channel (config + rule set) that runs as created"
    )
    scaffold.add_argument("name", help="channel name, snake_case")
    scaffold.add_argument("--root", default=".", help="repository root (default: current directory)")
    scaffold.add_argument(
        "--template",
        default="recoil",
        choices=["recoil", "bump", "two-mass"],
        help="recoil: peak in the mass recoiling against mu+ mu-; bump: peak in a spectrum (ALP); two-mass: 2D scan",
    )
    scaffold.set_defaults(func=_new_channel)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"darkscan {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
