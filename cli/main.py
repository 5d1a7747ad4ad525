"""The `vigia` command line; heavy libraries are imported inside each command for a fast start."""

from __future__ import annotations

import argparse
import logging
import sys
import traceback
from datetime import date
from pathlib import Path

log = logging.getLogger("vigia")
# Libraries whose INFO lines bury the pipeline's own progress.
NOISY_LOGGERS = ("httpx", "great_expectations", "alembic", "mlflow.store")


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a date as YYYY-MM-DD, got {text!r}") from exc


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from demo_world.generate import generate_world
    from demo_world.scenarios import UnknownScenarioError, get_scenario
    from demo_world.writing import write_world
    from pipelines.preflight import checked_config

    try:
        get_scenario(args.scenario)
    except UnknownScenarioError as exc:
        print(f"vigia: {exc}", file=sys.stderr)
        return 2
    cfg = checked_config(args.config).demo_world
    n = args.workplaces or cfg.workplaces
    seed = args.seed if args.seed is not None else cfg.seed
    log.info("Generating a %s demo world of %d workplaces (seed %d)", args.scenario, n, seed)
    world = generate_world(
        n_workplaces=n, seed=seed, start=cfg.start, end=cfg.end,
        defect_share=cfg.defect_share, scenario=args.scenario,
    )
    paths = write_world(world, Path(args.out))
    for name, path in paths.items():
        log.info("wrote %s: %s", name, path)
    print(f"Demo world written to {Path(args.out).resolve()}")
    return 0


def _preflight(args: argparse.Namespace) -> None:
    """Checks that need no data, before Prefect starts (a second instead of half a minute)."""
    from pipelines import environment, preflight

    config = preflight.checked_config(args.config)
    environment.apply_endpoints(config)
    preflight.check_data_dir(args.data, config)
    preflight.check_out_dir(args.out)
    if args.command == "rank":
        preflight.check_office(config, args.office, args.capacity)
    if not args.debug:
        preflight.hide_user_error_tracebacks()


def _cmd_run(args: argparse.Namespace) -> int:
    _preflight(args)
    from settings.files import claimed

    with claimed(Path(args.out), shared=False):  # before the flow's heavy imports: refused at once
        from pipelines.flow import vigia_run

        result = vigia_run(
            data_dir=str(args.data),
            out_dir=str(args.out),
            config_path=str(args.config) if args.config else None,
            as_of=args.as_of.isoformat() if args.as_of else None,
        )
    print(f"Lista priorizada: {result.list_csv}")
    print(f"Puntajes de todos los centros de trabajo: {result.scores}")
    print(f"Reporte de la corrida: {result.run_report}")
    print(f"MLflow run {result.mlflow_run_id} in {result.mlflow_tracking_uri}")
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    _preflight(args)
    from settings.files import claimed

    try:
        with claimed(Path(args.out), shared=True):  # before the flow's heavy imports
            from pipelines.flow import vigia_rank

            result = vigia_rank(
                data_dir=str(args.data), out_dir=str(args.out),
                config_path=str(args.config) if args.config else None,
                as_of=args.as_of.isoformat() if args.as_of else None,
                office=args.office, capacity=args.capacity,
            )
    except LookupError as exc:
        print(f"vigia: {exc}; run `vigia run` first to train and register one", file=sys.stderr)
        return 2
    print(f"Lista priorizada: {result.files.list_csv}")
    print(f"Reporte: {result.files.report_html}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    """Serve the scheduled deployments against the Prefect server at PREFECT_API_URL."""
    import os

    _preflight(args)  # the scheduled runs would fail on the same paths and config, quarters later
    if not os.environ.get("PREFECT_API_URL"):
        print("vigia: PREFECT_API_URL (or config orchestration.prefect_api_url) is not set; "
              "start `prefect server start --host 127.0.0.1` and export "
              "PREFECT_API_URL=http://127.0.0.1:4200/api", file=sys.stderr)
        return 2
    from pipelines.deployments import serve_deployments

    serve_deployments(args.data, args.out, args.config)
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    """Demo worlds only: score a finished run against the world's hidden ground truth."""
    from evaluation.report import write_evaluation
    from pipelines.preflight import checked_config

    config = checked_config(args.config)
    path = write_evaluation(
        Path(args.hidden), Path(args.run), config.lists.total_capacity,
        config.labels.label_timespan_months, fairness=config.fairness,
    )
    print(path.read_text(encoding="utf-8"))
    print(f"Written to {path}")
    return 0


def _add_run_inputs(command: argparse.ArgumentParser, as_of: bool) -> None:
    """The inputs every pipeline command takes: data, output folder, config (and the date)."""
    command.add_argument("--data", required=True, type=Path, help="folder with the input tables")
    command.add_argument("--out", required=True, type=Path, help="folder for lists and reports")
    command.add_argument("--config", type=Path, default=None, help="YAML overriding the defaults")
    if as_of:
        command.add_argument(
            "--as-of", type=_iso_date, default=None,
            help="planning date YYYY-MM-DD (default: the day after the newest record)",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vigia", description="Rank workplaces for forced-labour inspections."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks of input errors too (they are for bugs otherwise)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo-data", help="write the seeded demo world (with its hidden truth)")
    demo.add_argument("--out", required=True, type=Path)
    demo.add_argument("--workplaces", type=int, default=None)
    demo.add_argument("--seed", type=int, default=None)
    demo.add_argument("--scenario", default="baseline",
                      help="which world of the family (demo_world/scenarios.py); default baseline")
    demo.add_argument("--config", type=Path, default=None)
    demo.set_defaults(func=_cmd_demo_data)

    run = sub.add_parser("run", help="validate, train, evaluate and write the ranked list")
    _add_run_inputs(run, as_of=True)
    run.set_defaults(func=_cmd_run)

    rank = sub.add_parser(
        "rank", help="a planner's list from the registered champion (one office or all)"
    )
    _add_run_inputs(rank, as_of=True)
    rank.add_argument("--office", "--department", dest="office", default=None,
                      help="one office's list: its INEI department code (e.g. 16) or ILM (Lima "
                           "Metropolitana); --department is the older spelling")
    rank.add_argument("--capacity", type=int, default=None,
                      help="inspections this office can make (needs --office)")
    rank.set_defaults(func=_cmd_rank)

    serve = sub.add_parser(
        "serve", help="serve scheduled retraining and listing (server at PREFECT_API_URL)"
    )
    _add_run_inputs(serve, as_of=False)
    serve.set_defaults(func=_cmd_serve)

    evaluate = sub.add_parser(
        "evaluate", help="demo worlds only: score a finished run against the hidden ground truth"
    )
    evaluate.add_argument("--hidden", required=True, type=Path,
                          help="the demo world's hidden ground-truth folder")
    evaluate.add_argument("--run", required=True, type=Path, help="the --out folder of a run")
    evaluate.add_argument("--config", type=Path, default=None)
    evaluate.set_defaults(func=_cmd_evaluate)
    return parser


def main(argv: list[str] | None = None) -> int:
    from pipelines.environment import apply_offline_defaults

    apply_offline_defaults()
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for chatty in NOISY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    from cleaning.validation import DataContractError
    from settings.errors import InputError

    try:
        return args.func(args)
    except InputError as exc:
        if args.debug:
            traceback.print_exc()
        rejected = "input rejected: " if isinstance(exc, DataContractError) else ""
        print(f"vigia: {rejected}{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
