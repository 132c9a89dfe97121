"""The `striate` command line: train, evaluate, predict, bench, and the commands in their own
modules (summary, dashboard, visualize, report, export, sweep).

    striate train                          # LeNet-5 on the embedded digits, prints test accuracy
    striate train --dataset fashion_mnist --model mnist_convnet --epochs 10 --optimizer adam --lr 1e-3
    striate evaluate runs/lenet5-digits-...
    striate predict runs/lenet5-digits-... image.png --topk 3
    striate summary alexnet --input 3x227x227
    striate bench --quick
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

# exit codes: one per kind of failure, so scripts can tell them apart (also in docs/faults.md)
EXIT_USAGE = 2  # a flag or name the command cannot use (argparse uses 2 too)
EXIT_NONFINITE = 3  # the loss became NaN or infinite
EXIT_DATA = 4  # a dataset or input file that is missing, corrupt or cannot fit
EXIT_RUN = 5  # a run folder or checkpoint that is missing or corrupt
EXIT_DEPENDENCY = 6  # an optional package the command needs is not installed
EXIT_MODEL_FIT = 7  # the model cannot run on the data at this input size
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT)


class CLIError(Exception):
    """A user error: printed as one line `striate: error: ...`, exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: `striate train: error: ... (striate train --help)`."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see: {self.prog} --help)\n")


def _fits_epilog() -> str:
    from striate.train.runs import MODEL_INPUT_SIDE

    small = ", ".join(sorted(MODEL_INPUT_SIDE))
    return ("which models fit which datasets: every dataset (digits 8x8, mnist and fashion_mnist "
            f"28x28, cifar10 32x32x3) trains with {small} (images are padded or resized to the "
            "model's size); alexnet, vgg*, googlenet need large images: add --resize 224 (227 for "
            "alexnet), slow on a CPU. Exit codes: 2 usage, 3 NaN loss, 4 data, 5 run folder or "
            "checkpoint, 6 missing package, 7 model does not fit, 130 Ctrl-C.")


def _train_parser(sub) -> None:
    from striate.train.runs import RunConfig

    p = sub.add_parser("train", help="train a model and print its test accuracy",
                       description="Train a model from the zoo on a dataset; writes a run folder "
                                   "(config, checkpoints, history, result) and ends by printing "
                                   "'test accuracy: NN.N%'.", epilog=_fits_epilog())
    RunConfig.add_arguments(p)  # one flag per option; defaults and help live in RunConfig
    p.add_argument("--out", default="runs", help="folder for run folders (default ./runs)")
    p.add_argument("--resume", default=None, metavar="RUN",
                   help="continue the run in this folder from its last checkpoint (flags marked "
                        "'may change on --resume' apply; others are refused)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    # --- live dashboard (issue 16): striate.dashboard ---
    p.add_argument("--dashboard", action="store_true",
                   help="serve a live page of the run (prints its URL; controls need its token)")
    p.add_argument("--port", type=int, default=8765, help="dashboard port (default 8765; 0: any free)")
    p.add_argument("--dashboard-host", default="127.0.0.1",
                   help="dashboard address (default 127.0.0.1; another one needs --allow-remote)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --dashboard-host")
    # --- issue 17: the sEMG typing task (striate/emg/) ---
    p.add_argument("--task", default="classify", choices=["classify", "emg"],
                   help="classify images (default) or decode typing from sEMG (emg: ends with 'test CER')")
    importlib.import_module("striate.emg.options").add_emg_arguments(p)


def _add_parsers() -> argparse.ArgumentParser:
    from striate import __version__

    parser = _Parser(prog="striate", description="striate: CNNs from the math up on NumPy.")
    parser.add_argument("--version", action="version", version=f"striate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _train_parser(sub)
    p = sub.add_parser("evaluate", help="test accuracy, loss and confusion matrix of a run",
                       description="Evaluate a finished run's best checkpoint on its test split.")
    p.add_argument("run", help="run folder written by `striate train`")
    p.add_argument("--which", default="best", choices=["best", "last"], help="checkpoint (default best)")
    p = sub.add_parser("predict", help="top-k classes for image files",
                       description="Classify image files (PNG, JPEG, ...; needs Pillow) or .npy arrays "
                                   "with a trained run.")
    p.add_argument("run", help="run folder written by `striate train`")
    p.add_argument("images", nargs="+", help="image files")
    p.add_argument("--topk", type=int, default=3, help="how many classes to show (default 3)")
    p = sub.add_parser("bench", help="striate vs PyTorch speed on the lectures' networks",
                       description="Run the honest benchmark (benchmarks/honest.py; needs PyTorch): "
                                   "both libraries as their users run them, in one process and in "
                                   "separate processes; writes JSON and Markdown results.")
    p.add_argument("--quick", action="store_true", help="LeNet-5 b64 only, fewer rounds")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for both libraries (default: each library's own default)")
    p.add_argument("--out", default="bench-results", help="output folder (default bench-results)")
    for module in _COMMAND_MODULES.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    if args.task == "emg":  # issue 17: the sEMG task has its own module
        return importlib.import_module("striate.emg.task").run_from_args(args)
    from striate.distributed.launch import cli_communicator
    from striate.distributed.training import stop_all_on_error

    comm = cli_communicator()  # `mpirun -np N striate train`: N data-parallel ranks, rank 0 writes
    with stop_all_on_error(comm):  # a rank that fails ends the whole job, not a hang
        return _train(args, comm)


def _train(args: argparse.Namespace, comm) -> int:
    from striate.train import runs
    from striate.train.trainer import NonFiniteLossError, TrainingInterrupted

    folder = dashboard = None

    def attach_dashboard(trainer) -> None:  # before a resume loads state: its state is in the checkpoint
        nonlocal dashboard
        if args.dashboard and comm.is_main:
            from striate.dashboard.command import attach_to_training

            dashboard = attach_to_training(trainer, folder, args)

    try:
        if args.resume:
            folder = Path(args.resume)
            folder, trainer, cfg = _resume(args, comm, attach_dashboard)
        else:
            cfg = runs.RunConfig.from_args(args)
            try:
                runs.check_names(cfg)
            except ValueError as e:
                raise CLIError(str(e)) from None
            if comm.is_main:
                print(f"preparing data: {cfg.dataset} for {cfg.model}", file=sys.stderr, flush=True)
            data = runs.prepare_data(cfg)  # data preparation: before any folder exists
            cfg = data[0]
            try:
                model = runs.seeded_model(cfg)
            except ValueError as e:  # e.g. --width for a model without that option
                raise CLIError(f"{e} (--width, --dropout, --hidden, --convs-per-block and --kernel-size "
                               "are mnist_convnet's options)") from None
            runs.check_model_fits(cfg, model)
            folder = comm.broadcast_object(runs.new_run_folder(args.out, cfg) if comm.is_main else None)
            if comm.is_main:
                cfg.save(folder)
            trainer = runs.make_trainer(cfg, folder, progress=not args.quiet, data=data, comm=comm,
                                        model=model)
            attach_dashboard(trainer)
            if comm.is_main:
                print(f"run folder: {folder}", file=sys.stderr)
        trainer.fit()
        if not comm.is_main:
            return 0
        _, model = runs.load_model(folder)
        result = runs.test_metrics(cfg, model)
        _write_result(folder, cfg, result, trainer)
    except NonFiniteLossError as e:
        raise CLIError(f"{e}{_remove_if_empty(folder) if comm.is_main else ''}", EXIT_NONFINITE) from None
    except TrainingInterrupted as e:
        print(f"\n{e}\nresume with: striate train --resume {folder}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        return _interrupted_outside_training(folder)
    finally:
        if dashboard is not None:
            dashboard.stop()
    print(f"test accuracy: {100 * result['accuracy']:.1f}%")
    return 0


def _resume(args: argparse.Namespace, comm, attach=None):
    """(folder, trainer, config) continuing the run in args.resume with the flags given; only
    rank 0 writes and prints; `attach(trainer)` runs before the checkpoint is loaded."""
    from striate.train import runs
    from striate.train.callbacks import read_checkpoint

    folder = Path(args.resume)
    saved = runs.RunConfig.load(folder)
    ckpts = folder / "checkpoints"

    def saved_at(name: str) -> float:
        path = ckpts / f"{name}.safetensors"
        return path.stat().st_mtime if path.exists() else 0.0

    # the newer first: after a resume from an interruption, later epochs update last only
    names = sorted(["interrupted", "last"], key=saved_at, reverse=True)
    state = read_checkpoint(ckpts, names)
    cfg = saved.resumed_with(runs.RunConfig.given(args), at_epoch=int(state["epoch"]))
    trainer = runs.resume_trainer(cfg, folder, state, progress=not args.quiet, comm=comm, attach=attach)
    if not comm.is_main:
        return folder, trainer, cfg
    if cfg is not saved:
        cfg.save(folder)
        changes = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in cfg.resumes[-1]["changed"].items())
        print(f"changed on resume: {changes} (recorded in config.json 'resumes')", file=sys.stderr)
    if trainer.epoch >= trainer.epochs:
        print(f"{folder} has finished its {trainer.epochs} epochs; testing it again (pass --epochs N "
              "to extend it)", file=sys.stderr)
        return folder, trainer, cfg
    print(f"resuming {folder} at epoch {trainer.epoch + 1} of {trainer.epochs}"
          f"{f', batch {trainer.batch_in_epoch + 1}' if trainer.batch_in_epoch else ''}", file=sys.stderr)
    return folder, trainer, cfg


def _remove_if_empty(folder: Path | None) -> str:
    """Remove a run folder that holds no checkpoint (nothing to resume or evaluate); says so."""
    import shutil

    if folder is None or any((folder / "checkpoints").glob("*.safetensors")):
        return ""
    shutil.rmtree(folder, ignore_errors=True)
    return f" (removed {folder}: no checkpoint was saved)"


def _interrupted_outside_training(folder: Path | None) -> int:
    """Ctrl-C outside the training loop (data preparation, model checks, final test)."""
    if folder is None:
        print("\ninterrupted before training started; nothing was written: run the same command "
              "again to start", file=sys.stderr)
    elif _remove_if_empty(folder):
        print(f"\ninterrupted before the first checkpoint; removed {folder}: run the same command "
              "again to start", file=sys.stderr)
    else:
        print(f"\ninterrupted; the run's checkpoints are kept\nresume with: striate train --resume {folder}",
              file=sys.stderr)
    return EXIT_INTERRUPTED


def _write_result(folder: Path, cfg, result: dict, trainer) -> None:
    from striate.io_atomic import atomic_write_text

    history = trainer.history.as_rows()
    out = {"test_accuracy": result["accuracy"], "test_loss": result["loss"], "test_n": result["n"],
           "confusion_matrix": result["confusion_matrix"].tolist(), "epochs_run": len(history),
           "train_time_s": sum(r["time"] for r in history), "config": asdict(cfg)}
    atomic_write_text(folder / "result.json", json.dumps(out, indent=1))


def cmd_evaluate(args: argparse.Namespace) -> int:
    from striate.train import runs

    cfg, model = runs.load_model(Path(args.run), args.which)
    result = runs.test_metrics(cfg, model)
    print(f"test loss: {result['loss']:.4f}  (n = {result['n']})")
    print("confusion matrix (rows: true class, columns: predicted):")
    for i, row in enumerate(result["confusion_matrix"]):
        print(f"  {cfg.classes[i] if i < len(cfg.classes) else i!s:>12} " + " ".join(f"{v:5d}" for v in row))
    print(f"test accuracy: {100 * result['accuracy']:.1f}%")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from striate.autograd.function import no_grad
    from striate.creation import tensor
    from striate.ops.activation import softmax
    from striate.train import runs
    from striate.train.run_inputs import prepare_images

    if args.topk < 1:
        raise CLIError(f"--topk must be 1 or more, got {args.topk}")
    cfg, model = runs.load_model(Path(args.run))
    x = prepare_images(args.images, cfg)
    with no_grad():
        probs = softmax(model(tensor(x)), dim=1).numpy()
    k = min(args.topk, probs.shape[1])
    for path, p in zip(args.images, probs):
        top = np.argsort(-p)[:k]
        names = [f"{cfg.classes[i] if i < len(cfg.classes) else i} {100 * p[i]:.1f}%" for i in top]
        print(f"{path}: " + ", ".join(names))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from striate.bench import main as bench_main

    argv = ["--out", args.out] + (["--quick"] if args.quick else [])
    return bench_main(argv + ([] if args.threads is None else ["--threads", str(args.threads)]))


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "bench": cmd_bench}

# Commands that live in their own modules: each module has `add_parser(sub)` (adds its
# subparser to argparse's subparsers object) and `run(args) -> int` (the exit code).
_COMMAND_MODULES: dict[str, str] = {
    "summary": "striate.summary_command",
    "dashboard": "striate.dashboard.command",
    "visualize": "striate.viz.cli_visualize",
    "report": "striate.viz.cli_report",
    "export": "striate.cli_export",
    "sweep": "striate.emg.sweep",
}


@contextlib.contextmanager
def _owning_the_process() -> Iterator[None]:
    """The command line is an application, not a library: while a command runs it gives striate
    the cores (striate's default anyway since issue 14; BLAS is set to one thread only where
    striate has no private serial BLAS) and lets training steps reuse freed memory (see
    `striate.config`). Both are restored afterwards, so `main()` called from Python leaves the
    process as it was."""
    from striate import config

    tuned_before = bool(config._state.get("malloc_tuned"))
    config.keep_freed_memory()
    try:
        if config._state["threads"] is not None:  # the caller chose already
            yield
        else:
            with config.use_num_threads(config.available_cores()):
                yield
    finally:
        if not tuned_before:
            config.keep_freed_memory(False)


def main(argv: list[str] | None = None) -> int:
    parser = _add_parsers()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        with _owning_the_process():
            if args.command in _COMMAND_MODULES:
                return importlib.import_module(_COMMAND_MODULES[args.command]).run(args)
            return COMMANDS[args.command](args)
    except SystemExit as e:  # a command module's own one-line error: SystemExit("error: ...")
        if not isinstance(e.code, str):
            raise
        message = " ".join(e.code.split()).removeprefix("error: ")
        print(f"striate {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as e:  # noqa: BLE001 - known user errors become one line; others propagate
        code, message = _user_error(e)
        if code is None:
            raise
        print(f"striate {args.command}: error: {message}", file=sys.stderr)
        return code


def _user_error(e: Exception) -> tuple[int | None, str]:
    """(exit code, one-line message) for the errors a user can fix; (None, "") for bugs."""
    from striate.data.datasets.base import DataFileError, DatasetNotFoundError, DownloadError
    from striate.io import StriateFileError
    from striate.train.callbacks import NoCheckpointError
    from striate.train.run_config import NotARunError, ResumeConflictError
    from striate.train.run_inputs import ImageInputError
    from striate.train.runs import ModelDoesNotFitError

    one_line = " ".join(str(e).split())
    if isinstance(e, CLIError):
        return e.code, one_line
    if isinstance(e, DatasetNotFoundError):
        text = one_line.replace("pass download=True", "pass --download")
        return EXIT_DATA, text.replace("root=FOLDER", "--data-root FOLDER")
    table = [(ModelDoesNotFitError, EXIT_MODEL_FIT),
             ((NotARunError, NoCheckpointError, StriateFileError), EXIT_RUN),
             ((DataFileError, DownloadError, ImageInputError), EXIT_DATA), (ImportError, EXIT_DEPENDENCY),
             (ResumeConflictError, EXIT_USAGE)]
    for kinds, code in table:
        if isinstance(e, kinds):
            return code, one_line
    return None, ""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
