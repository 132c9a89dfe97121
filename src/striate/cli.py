"""The `striate` command line: train, evaluate, predict, summary, bench.

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

EXIT_NONFINITE = 3
EXIT_INTERRUPTED = 130


def _train_parser(sub) -> None:
    from striate.train.runs import RunConfig

    d = RunConfig()  # one place for the defaults
    p = sub.add_parser("train", help="train a model and print its test accuracy",
                       description="Train a model from the zoo on a dataset; writes a run folder "
                                   "(config, checkpoints, history, result) and ends by printing "
                                   "'test accuracy: NN.N%'.")
    p.add_argument("--model", default="lenet5", help="model name from st.models (default lenet5)")
    p.add_argument("--variant", default="modern", choices=["modern", "classic"],
                   help="LeNet-5 variant: modern (ReLU, max-pool) or classic (1998) (default modern)")
    p.add_argument("--dataset", default="digits",
                   help="digits (embedded, default), mnist, fashion_mnist, cifar10")
    p.add_argument("--data-root", default=None, help="folder holding the dataset files")
    p.add_argument("--epochs", type=int, default=d.epochs,
                   help=f"passes over the training set (default {d.epochs})")
    p.add_argument("--batch-size", type=int, default=d.batch_size,
                   help=f"mini-batch size (default {d.batch_size})")
    p.add_argument("--optimizer", default=d.optimizer,
                   help=f"sgd, adam, adamw, rmsprop, adagrad, adadelta (default {d.optimizer})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default {d.lr})")
    p.add_argument("--momentum", type=float, default=d.momentum,
                   help=f"SGD/RMSprop momentum (default {d.momentum})")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay (default 0)")
    p.add_argument("--scheduler", default="none",
                   help="learning-rate schedule: none, step, cosine, plateau, onecycle (default none)")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction,
                   help=f"fraction of the training set held out for validation (default {d.val_fraction})")
    p.add_argument("--early-stopping", type=int, default=0, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without validation improvement (0: off)")
    p.add_argument("--width", type=int, default=d.width,
                   help="channel multiplier for models that take one (mnist_convnet; default 1)")
    p.add_argument("--dropout", type=float, default=d.dropout,
                   help="dropout before the classifier for models that take it (default 0)")
    p.add_argument("--hidden", type=int, default=d.hidden,
                   help="units of a fully connected hidden layer before the classifier "
                        "(mnist_convnet; default 0: none)")
    p.add_argument("--convs-per-block", type=int, default=d.convs_per_block,
                   help="Conv-BN-ReLU layers before each pool (mnist_convnet; default 1)")
    p.add_argument("--kernel-size", type=int, default=d.kernel_size,
                   help="odd filter size (mnist_convnet; default 0: the model's own, 5)")
    p.add_argument("--augment", action="store_true",
                   help="random shifts of up to 2 px (ConvNetJS), plus mirroring for clothes/objects")
    p.add_argument("--jitter", type=float, default=0.0, help="std of Gaussian input noise (default 0)")
    p.add_argument("--clip-grad", type=float, default=None, help="clip the global gradient norm")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="runs", help="folder for run folders (default ./runs)")
    p.add_argument("--resume", default=None, metavar="RUN",
                   help="continue the run in this folder from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    # --- live dashboard (issue 16): striate.dashboard ---
    p.add_argument("--dashboard", action="store_true",
                   help="serve a live page of the run (prints its URL; controls need its token)")
    p.add_argument("--port", type=int, default=8765, help="dashboard port (default 8765; 0: any free)")
    p.add_argument("--dashboard-host", default="127.0.0.1",
                   help="dashboard address (default 127.0.0.1; another one needs --allow-remote)")
    p.add_argument("--allow-remote", action="store_true", help="allow a non-loopback --dashboard-host")
    p.add_argument("--sync-bn", action="store_true",
                   help="under mpirun: batch norm statistics over the whole global batch (default: per rank)")
    # --- issue 17: the sEMG typing task (striate/emg/) ---
    p.add_argument("--task", default="classify", choices=["classify", "emg"],
                   help="classify images (default) or decode typing from sEMG (emg: ends with 'test CER')")
    importlib.import_module("striate.emg.options").add_emg_arguments(p)


def _add_parsers() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="striate", description="striate: CNNs from the math up on NumPy.")
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
                       description="Run the side-by-side benchmarks (needs PyTorch installed) and "
                                   "write JSON and Markdown results.")
    p.add_argument("--quick", action="store_true", help="fewer repetitions and workloads")
    p.add_argument("--out", default="bench-results", help="output folder (default bench-results)")
    for module in _COMMAND_MODULES.values():
        importlib.import_module(module).add_parser(sub)
    return parser


def cmd_train(args: argparse.Namespace) -> int:
    from striate.distributed.launch import cli_communicator
    from striate.distributed.training import stop_all_on_error

    comm = cli_communicator()  # `mpirun -np N striate train`: N data-parallel ranks, rank 0 writes
    with stop_all_on_error(comm):  # a rank that fails ends the whole job, not a hang
        return _train(args, comm)


def _train(args: argparse.Namespace, comm) -> int:
    from striate.train import runs
    from striate.train.trainer import NonFiniteLossError, TrainingInterrupted

    if args.task == "emg":  # issue 17: its own module
        return importlib.import_module("striate.emg.task").run_from_args(args)
    if args.resume:
        folder = Path(args.resume)
        cfg = runs.RunConfig.load(folder)
    else:
        cfg = runs.RunConfig(
            model=args.model, variant=args.variant, dataset=args.dataset, data_root=args.data_root,
            epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr,
            momentum=args.momentum, weight_decay=args.weight_decay, scheduler=args.scheduler,
            val_fraction=args.val_fraction, early_stopping=args.early_stopping, augment=args.augment,
            jitter=args.jitter, clip_grad=args.clip_grad, seed=args.seed, width=args.width,
            dropout=args.dropout, hidden=args.hidden, convs_per_block=args.convs_per_block,
            kernel_size=args.kernel_size, sync_batchnorm=args.sync_bn)
        folder = comm.broadcast_object(runs.new_run_folder(args.out, cfg) if comm.is_main else None)
    trainer = runs.make_trainer(cfg, folder, progress=not args.quiet, comm=comm)
    if comm.is_main:
        cfg.save(folder)
    dashboard = None
    if getattr(args, "dashboard", False) and comm.is_main:  # before resuming: its state is in the checkpoint
        from striate.dashboard.command import attach_to_training

        dashboard = attach_to_training(trainer, folder, args)
    if args.resume:
        ckpt = comm.broadcast_object(_resume_checkpoint(folder) if comm.is_main else None)
        trainer.load_checkpoint(ckpt)
        if comm.is_main:
            print(f"resuming {folder} from {ckpt.name} at epoch {trainer.epoch + 1}", file=sys.stderr)
    elif comm.is_main:
        print(f"run folder: {folder}", file=sys.stderr)
    try:
        trainer.fit()
    except NonFiniteLossError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_NONFINITE
    except TrainingInterrupted as e:
        print(f"\n{e}\nresume with: striate train --resume {folder}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if dashboard is not None:
            dashboard.stop()
    if not comm.is_main:
        return 0
    _, model = runs.load_model(folder)
    result = runs.test_metrics(cfg, model)
    _write_result(folder, cfg, result, trainer)
    print(f"test accuracy: {100 * result['accuracy']:.1f}%")
    return 0


def _resume_checkpoint(folder: Path) -> Path:
    ckpts = folder / "checkpoints"
    candidates = [ckpts / "interrupted.safetensors", ckpts / "last.safetensors"]
    existing = [c for c in candidates if c.exists()]
    if not existing:
        raise SystemExit(f"error: nothing to resume in {folder}: no checkpoint in {ckpts}")
    return max(existing, key=lambda p: p.stat().st_mtime)


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
    from striate.autograd.tensor import _make
    from striate.ops.activation import softmax
    from striate.train import runs

    cfg, model = runs.load_model(Path(args.run))
    batch = np.concatenate([_read_image(p, cfg.in_channels) for p in args.images])
    x = runs.normalise(runs.fit_side(batch, cfg.input_side), cfg)
    with no_grad():
        probs = softmax(model(_make(x, False)), dim=1).numpy()
    k = min(args.topk, probs.shape[1])
    for path, p in zip(args.images, probs):
        top = np.argsort(-p)[:k]
        names = [f"{cfg.classes[i] if i < len(cfg.classes) else i} {100 * p[i]:.1f}%" for i in top]
        print(f"{path}: " + ", ".join(names))
    return 0


def _read_image(path: str, channels: int):
    """An image file as a (1, C, H, W) float32 array in [0, 1] (Pillow, or a .npy array)."""
    import numpy as np

    if path.endswith(".npy"):
        arr = np.load(path, allow_pickle=False).astype(np.float32)
        if arr.max() > 1.0:
            arr = arr / 255.0
        arr = arr.reshape((1,) * (4 - arr.ndim) + arr.shape) if arr.ndim < 4 else arr
        return arr[:1]
    try:
        from PIL import Image
    except ImportError:
        raise SystemExit("error: reading images needs Pillow: pip install 'striate[images]'") from None
    try:
        img = Image.open(path)
        img = img.convert("L" if channels == 1 else "RGB")
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: cannot read image {path}: {e}") from None
    arr = np.asarray(img, dtype=np.float32) / 255.0
    arr = arr[None, None] if arr.ndim == 2 else arr.transpose(2, 0, 1)[None]
    return arr


def cmd_bench(args: argparse.Namespace) -> int:
    try:
        from striate.bench import main as bench_main
    except ImportError as e:
        raise SystemExit(f"error: {e}") from None
    return bench_main(quick=args.quick, out=args.out)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "bench": cmd_bench}

# Commands that live in their own modules: each module has `add_parser(sub)` (adds its
# subparser to argparse's subparsers object) and `run(args) -> int` (the exit code).
_COMMAND_MODULES: dict[str, str] = {
    "dashboard": "striate.dashboard.command",
    "visualize": "striate.viz.cli_visualize",  # issue 15
    "report": "striate.viz.cli_report",  # issue 15
    "export": "striate.cli_export",  # issue 18
    "summary": "striate.summary_command",
    "sweep": "striate.emg.sweep",  # issue 17: sEMG CER against channels / data / sampling rate
}


@contextlib.contextmanager
def _owning_the_process() -> Iterator[None]:
    """The command line is an application, not a library: while a command runs it hands striate
    the cores (BLAS on one thread, striate's own threads) and lets training steps reuse freed
    memory (see `striate.config`; a Python program opts in with the same two calls). Both are
    restored afterwards, so `main()` called from Python leaves the process as it was."""
    from striate import config

    tuned_before = bool(config._state.get("malloc_tuned"))
    config.keep_freed_memory()
    try:
        if config._state["threads"] is not None:  # the caller chose already
            yield
        else:
            with config.use_num_threads(config.default_num_threads()):
                yield
    finally:
        if not tuned_before:
            config.keep_freed_memory(False)


def main(argv: list[str] | None = None) -> int:
    parser = _add_parsers()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    with _owning_the_process():
        if args.command in _COMMAND_MODULES:
            return importlib.import_module(_COMMAND_MODULES[args.command]).run(args)
        return COMMANDS[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
