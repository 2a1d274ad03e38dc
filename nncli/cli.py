"""The command line. Commands are thin: parse options, call plain functions that raise,
render. Only this module prints errors and chooses exit codes (see `nncli.errors`)."""

from __future__ import annotations

import functools
import math
import signal
import sys
import traceback
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, Optional

import numpy as np
import typer
from rich.console import Console
from rich.text import Text

from nncli import __version__
from nncli.safetext import printable
from nncli.errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    ConfigError,
    NncliError,
    ResourceError,
)
from nncli.views import MAX_COLUMNS, MAX_ROWS

EXIT_CODES_HELP = (
    "Exit codes, the same for every command: 0 success; 1 internal error or failed gradcheck "
    "(a bug: please report it); 2 usage or config error, an output that cannot be written, or "
    "out of memory; 3 data or model-file error; 4 training diverged; 130 interrupted (Ctrl-C)."
)

app = typer.Typer(
    name="nncli",
    help=(
        "Train multi-layer perceptrons on CSV data from a YAML config, with nothing but "
        "NumPy underneath. Notation as in SPEC.md: X is n0 × k (columns are observations), "
        "W_l is n_l × n_(l-1), β_l is n_l × 1."
    ),
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _stderr() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False, markup=False)


def _stdout() -> Console:
    return Console(soft_wrap=True, highlight=False, markup=False)


def warn(message: str) -> None:
    text = Text("warning: ", style="bold yellow")
    text.append(_bounded(message))
    _stderr().print(text)


MAX_MESSAGE = 4000  # characters of an error message shown (a hostile file's names can be huge)


def _bounded(text: str) -> str:
    """`text` safe for a terminal (`safetext.printable`: it may quote a file's names), its
    middle left out if it is longer than MAX_MESSAGE characters."""
    text = printable(text, keep_newlines=True)
    if len(text) <= MAX_MESSAGE:
        return text
    keep = MAX_MESSAGE // 2
    return f"{text[:keep]} … [{len(text) - 2 * keep:,} characters left out] … {text[-keep:]}"


def fail(error: NncliError) -> typer.Exit:
    text = Text("error: ", style="bold red")
    text.append(_bounded(error.message))
    console = _stderr()
    console.print(text)
    if error.hint:
        console.print(Text("help: ", style="bold cyan") + Text(_bounded(error.hint)))
    return typer.Exit(code=error.exit_code)


def handle_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn nncli's errors into a message and an exit code; anything else is a bug."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except NncliError as error:
            raise fail(error) from None
        except KeyboardInterrupt:
            _stderr().print(Text("interrupted", style="bold yellow"))
            raise typer.Exit(code=EXIT_INTERRUPTED) from None
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except MemoryError:
            raise fail(
                ResourceError(
                    "out of memory: this machine cannot hold what the command needs (a network "
                    "with many parameters, many observations, or a large chunk of rows).",
                    hint="use a smaller network or fewer rows (or a smaller --chunk-rows for "
                    "predict and evaluate).",
                )
            ) from None
        except Exception:
            console = _stderr()
            console.print(Text(traceback.format_exc()))
            console.print(
                Text(
                    f"nncli {__version__} hit an internal error (exit code 1). This is a bug, "
                    "not your mistake: please report it with the traceback above and the "
                    "command you ran.",
                    style="bold red",
                )
            )
            raise typer.Exit(code=EXIT_INTERNAL) from None

    return wrapper


def _silence_broken_pipe() -> None:
    """The reader of stdout went away (e.g. `| head`): stop quietly, without a traceback
    when Python flushes stdout on exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def stdout_is_the_result(command: Callable[..., Any]) -> Callable[..., Any]:
    """For commands whose result is what they write to stdout (predict, inspect, evaluate):
    a reader that stops reading (`nncli predict … | head`) has all it wanted, so a closed
    pipe ends the command quietly with exit code 0. (Not for train, whose result is the
    model file it has yet to save.)"""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:
            _silence_broken_pipe()
            raise typer.Exit(code=0) from None

    return wrapper


class _Console(Console):
    """A rich Console for `stdout_is_the_result` commands: a closed stdout raises
    BrokenPipeError, instead of rich's own SystemExit(1)."""

    def on_broken_pipe(self) -> None:
        raise BrokenPipeError


def _version(value: bool) -> None:
    if value:
        print(f"nncli {__version__} (numpy {np.__version__}, python {sys.version.split()[0]})")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Train and use multi-layer perceptrons from a YAML spec."""


def _display_mode(quiet: bool) -> str:
    if quiet:
        return "quiet"
    return "rich" if sys.stdout.isatty() else "plain"


@app.command()
@handle_errors
def train(
    config: Annotated[Path, typer.Argument(help="The YAML network spec (see README: config reference).")],
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Where to save the model; overrides output.model (default model.npz)."),
    ] = None,
    set_: Annotated[
        Optional[list[str]],
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a config value, e.g. --set training.learning_rate=0.01 or "
            "--set network.layers[0].neurons=8. Repeatable; validated like the file.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only warnings, errors and the saved model's path (no progress, no summary).")
    ] = False,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Print every step of SPEC.md's gradient descent with the actual numbers for "
            "the first iterations (see --iterations), then train on as configured.",
        ),
    ] = False,
    iterations: Annotated[
        Optional[int],
        typer.Option("--iterations", min=1, help="With --explain: how many iterations to explain (default 1)."),
    ] = None,
    precision: Annotated[
        Optional[int],
        typer.Option(
            "--precision", min=1, max=17, help="With --explain: significant digits shown (default 12)."
        ),
    ] = None,
    plot: Annotated[
        Optional[Path],
        typer.Option(
            "--plot",
            metavar="PNG",
            help="Also write the cost curve (training and validation cost per iteration) as "
            "a PNG image. Needs matplotlib (.venv/bin/pip install -e '.[plot]' in a checkout).",
        ),
    ] = None,
    resume: Annotated[
        Optional[Path],
        typer.Option(
            "--resume",
            metavar="MODEL.npz",
            help="Continue the run saved in MODEL.npz (parameters, optimizer state, iteration "
            "count, history); the config must describe the same network. "
            "stopping.max_iterations counts the iterations already done.",
        ),
    ] = None,
    init_from: Annotated[
        Optional[Path],
        typer.Option(
            "--init-from",
            metavar="MODEL.npz",
            help="Start a new run from the W_l and β_l of MODEL.npz (same shapes) instead of "
            "the config's initial values.",
        ),
    ] = None,
) -> None:
    """Validate the spec, read the CSV, train, save the model (.npz) and MODEL.history.csv.

    Shows a progress bar and a row every training.log_every iterations, then which stopping
    criterion ended the run and which parameters were saved (best or last). Ctrl-C stops at
    the end of the current iteration and saves the parameters reached so far to
    MODEL.interrupted.npz (a second Ctrl-C quits at once); --resume continues from it.
    """
    import itertools

    from nncli.checkpoint import checkpoint_from_model, init_from_model, state_arrays
    from nncli.config import OPTIMIZER_KEYS, load_config
    from nncli.dataset import load_training_data
    from nncli.fileio import check_writable
    from nncli.modelfile import load_model, save_model
    from nncli.report import TrainingDisplay
    from nncli.run import build_network, history_path, model_metadata, side_path, training_run, write_history

    if not explain and (iterations is not None or precision is not None):
        given = "--iterations" if iterations is not None else "--precision"
        raise ConfigError(f"{given} only applies to --explain.", hint=f"add --explain, or leave out {given}.")
    if resume is not None and init_from is not None:
        raise ConfigError(
            "--resume and --init-from cannot be used together: --resume continues a run, "
            "--init-from starts a new one from a model's parameters."
        )
    if explain and (resume is not None or init_from is not None):
        given = "--resume" if resume is not None else "--init-from"
        raise ConfigError(
            f"--explain shows a run from SPEC Step 1 (the config's initial values); it does not "
            f"explain a run started with {given}.",
            hint=f"leave out {given}, or --explain.",
        )
    spec = load_config(config, set_ or ())
    model_path = spec.model_path(output)
    check_writable(model_path, "model")
    if plot is not None:
        from nncli.plots import require_matplotlib

        require_matplotlib()
        check_writable(plot, "plot")
    _refuse_overwriting_inputs(
        {"the model": model_path, "its history": history_path(model_path), "--plot": plot},
        {
            "the config": config,
            "data.train": spec.resolve(spec.data.train),
            "data.validation.file": (
                spec.resolve(spec.data.validation.file)
                if spec.data.validation is not None and spec.data.validation.file is not None
                else None
            ),
            "--resume": resume,
            "--init-from": init_from,
        },
    )
    for key in spec.training.ignored_keys():
        owner = next(name for name, keys in OPTIMIZER_KEYS.items() if key in keys)
        warn(f"training.{key} is for optimizer {owner}; it is ignored with optimizer {spec.training.optimizer}.")
    data = load_training_data(spec)
    for note in data.notes:
        warn(note)
    network = build_network(spec, data)
    checkpoint = None
    if resume is not None:
        checkpoint, notes = checkpoint_from_model(load_model(resume), spec, data, network)
    elif init_from is not None:
        notes = init_from_model(load_model(init_from), spec, network)
    else:
        notes = []
    batch_size = spec.training.batch_size
    if batch_size != "full" and batch_size >= data.k:
        notes.append(
            f"training.batch_size {batch_size} ≥ k = {data.k} training observations: each "
            "iteration is one full batch."
        )
    for note in notes:
        warn(note)
    classification = data.preprocessing.is_classification
    training = training_run(spec, data, network, checkpoint)
    display = TrainingDisplay(
        _Console(soft_wrap=True, highlight=False),
        _display_mode(quiet),
        spec.stopping.max_iterations,
        spec.training.log_every,
        validation=data.X_validation is not None,
        classification=classification,
    )
    steps = iter(training)
    # The deferring Ctrl-C handler stays until the files are written: a Ctrl-C while saving
    # must not lose a finished run (a second one still quits at once).
    with _first_interrupt_stops(training):
        try:
            if explain:
                from nncli.explain import DEFAULT_PRECISION, Explanation, initial_sources

                explanation = Explanation(
                    network,
                    data.X,
                    data.Y,
                    training.settings,
                    initial_sources(spec),
                    iterations=iterations or 1,
                    precision=precision or DEFAULT_PRECISION,
                )
                console = _Console(soft_wrap=True, highlight=False)
                for line in explanation.run(training, steps):
                    console.print(line)
                if explanation.lookahead is not None:
                    steps = itertools.chain([explanation.lookahead], steps)
            if training.stop is None:
                with display:
                    for step in steps:
                        display.update(step)
        except BrokenPipeError:
            # The reader of stdout went away (`nncli train … | head`): the result is the model
            # file, so train on without a display and save as usual.
            _silence_broken_pipe()
            display.mode = "quiet"
            for _ in steps:
                pass
        stop = training.stop
        assert stop is not None
        metadata = model_metadata(spec, data, training)
        saved = model_path
        if not stop.success:
            saved = side_path(model_path, "diverged" if stop.criterion == "diverged" else "interrupted")
        save_model(saved, network, metadata, state_arrays(training))
        history = write_history(saved, training.history, spec.training.log_every)
        extra: list[tuple[str, str]] = [("history", str(history))]
        if plot is not None:
            from nncli.plots import cost_curve

            title = f"{spec.run_name}: cost per iteration"
            cost_curve(metadata["training"]["history"], plot, title=title, cost_name=spec.cost)
            extra.append(("plot", str(plot)))
    try:
        display.summary(training, saved, extra)
    except BrokenPipeError:
        _silence_broken_pipe()
    costs = training.history.cost
    if stop.success:
        if len(costs) > 1 and costs[-1] > costs[0]:
            warn(
                f"the training cost rose from {costs[0]:.6g} (iteration 1) to {costs[-1]:.6g} "
                f"(iteration {len(costs)}): training.learning_rate "
                f"{spec.training.learning_rate:g} may be too large."
            )
        return
    if stop.criterion == "interrupted":
        warn(f"training was interrupted; the parameters reached so far are in {saved} "
             f"({model_path} was not touched).")
        raise typer.Exit(code=EXIT_INTERRUPTED)
    raise fail(
        _diverged_error(stop.message, spec.training.learning_rate, saved, model_path)
    )


SetOption = Annotated[
    Optional[list[str]],
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Override a config value, as for train (repeatable).",
    ),
]


@app.command()
@handle_errors
@stdout_is_the_result
def validate(
    config: Annotated[Path, typer.Argument(help="The YAML network spec.")],
    set_: SetOption = None,
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="The model path train would write (checked, not written)."),
    ] = None,
) -> None:
    """Check a config as train does (schema, data columns, shapes) without training.

    Prints the resolved config (every default filled in) and the layer shapes of SPEC.md:
    X n0 × k, W_l n_l × n_(l-1), β_l n_l × 1, Z_l n_l × k. Exit code 0, or the config (2) or
    data (3) error code.
    """
    from nncli.config import load_config
    from nncli.dataset import load_training_data
    from nncli.fileio import check_writable
    from nncli.run import build_network
    from nncli.validate import layer_shapes, resolved_yaml, shapes_table

    spec = load_config(config, set_ or ())
    model_path = spec.model_path(output)
    check_writable(model_path, "model")
    data = load_training_data(spec)
    for note in data.notes:
        warn(note)
    network = build_network(spec, data)
    console = _report_console()
    console.print(Text(f"# {config}: valid. Resolved config (defaults filled in):", style="bold"))
    console.print(Text(resolved_yaml(spec).rstrip()))
    console.print()
    validation = data.X_validation
    rows = f"k = {data.k} training observations"
    if validation is not None:
        rows += f", {validation.shape[1]} validation observations"
    console.print(Text(f"data: {spec.resolve(spec.data.train)}: {rows}", style="bold"))
    console.print(Text(f"  inputs  (n0 = {data.X.shape[0]}): {', '.join(data.preprocessing.input_names)}"))
    console.print(Text(f"  outputs (n{network.m} = {data.Y.shape[0]}): {', '.join(data.preprocessing.output_names)}"))
    console.print()
    console.print(shapes_table(layer_shapes(network, data.k)))
    console.print()
    console.print(Text(f"model: {model_path} (train writes it; nothing was written now)"))


@app.command()
@handle_errors
def gradcheck(
    config: Annotated[Path, typer.Argument(help="The YAML network spec.")],
    set_: SetOption = None,
    observations: Annotated[
        int, typer.Option("--observations", min=1, help="Columns of X sampled (seeded by the config's seed).")
    ] = 20,
    entries: Annotated[
        int, typer.Option("--entries", min=1, help="Entries checked per W_l and per β_l at most (seeded).")
    ] = 100,
    epsilon: Annotated[float, typer.Option("--epsilon", help="The ε of the differences (> 0).")] = 1e-6,
    tolerance: Annotated[
        float, typer.Option("--tolerance", help="Largest relative error that passes (> 0).")
    ] = 1e-6,
) -> None:
    """Compare back propagation with centered finite differences at the initial values.

    For every W_l and β_l: (cost(θ + ε) − cost(θ − ε)) / 2ε against back propagation's
    gradient of the cost (no training.l2 term), on a small seeded sample of the training
    data, in float64. A block
    passes when ‖g_backprop − g_numeric‖ / (‖g_backprop‖ + ‖g_numeric‖) ≤ tolerance.
    Exit code 0 when every block passes, 1 when one fails (that is a bug in nncli).
    """
    from nncli.config import load_config
    from nncli.dataset import load_training_data
    from nncli.errors import GradientCheckError
    from nncli.gradcheck import gradient_check, table
    from nncli.run import build_network

    for name, value in (("--epsilon", epsilon), ("--tolerance", tolerance)):
        if not (value > 0 and math.isfinite(value)):
            raise ConfigError(f"{name} {value}: expected a positive number, e.g. {name} 1e-6.")
    spec = load_config(config, set_ or ())
    data = load_training_data(spec)
    for note in data.notes:
        warn(note)
    network = build_network(spec, data)
    rng = np.random.default_rng(np.random.SeedSequence([spec.seed, 3]))  # [seed, 3]: gradcheck
    check = gradient_check(network, data.X, data.Y, rng, observations, entries, epsilon, tolerance)
    console = _stdout()
    console.print(
        Text(
            f"gradient check of {config}: {check.observations} of {check.of} observations, "
            f"ε = {epsilon:g}, in float64; cost at the initial values = {check.cost:.12g}"
        )
    )
    console.print(table(check))
    failed = [block.name for block in check.blocks if not block.passed]
    if failed:
        raise GradientCheckError(
            f"gradient check failed for {', '.join(failed)}: back propagation disagrees with "
            f"the finite differences (relative error above {tolerance:g}).",
            hint="this is a bug in nncli's back propagation: please report it with the config.",
        )
    console.print(
        Text(f"passed: every block agrees within a relative error of {tolerance:g}.", style="bold green")
    )


@app.command()
@handle_errors
def init(
    data: Annotated[Path, typer.Argument(help="The CSV file to train on.")],
    target: Annotated[str, typer.Option("--target", "-t", help="The column to predict.")],
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Where to write the config (default: <csv name>.yaml here; - for stdout)."),
    ] = None,
    task: Annotated[
        str,
        typer.Option("--task", help="auto (guess from the target), regression or classification."),
    ] = "auto",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing config file.")] = False,
) -> None:
    """Write a commented starter config for DATA that trains without edits.

    Text targets become classes (two: sigmoid + binary_cross_entropy; more: softmax +
    categorical_cross_entropy); numeric targets regression (identity + mse). Every other
    column is a feature; 20 % of the rows are held out for validation.
    """
    from nncli.fileio import atomic_write_text, check_writable
    from nncli.starter import starter_config

    to_stdout = output is not None and str(output) == "-"
    path = Path(f"{data.stem}.yaml") if output is None or to_stdout else output  # stdout: as if saved here
    if not to_stdout:
        if path.exists() and not path.is_dir() and not force:
            raise ConfigError(
                f"{path}: already exists; nncli init does not overwrite it.",
                hint="pass --force to replace it, or -o another.yaml.",
            )
        check_writable(path, "config")
    starter = starter_config(data, target, path, task)
    if to_stdout:
        sys.stdout.write(starter.text)
        return
    atomic_write_text(path, starter.text)
    console = _stdout()
    console.print(
        Text(
            f"wrote {path}: {starter.task} of {target!r} from {_count(len(starter.features), 'feature column')} "
            f"(n0 = {starter.inputs}), {starter.output_activation} output with "
            f"{starter.cost}, {_count(starter.rows, 'row')}."
        )
    )
    if starter.left_out:
        warn(f"left out {', '.join(repr(c) for c in starter.left_out)} (see the comments in {path}).")
    console.print(Text(f"next: nncli validate {path}  ·  nncli train {path}"))


@app.command()
@handle_errors
def schema(
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the schema to this file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of the config, for editors that validate and complete YAML.

    Put `# yaml-language-server: $schema=PATH/nncli.schema.json` on the first line of a
    config to use it.
    """
    from nncli.fileio import atomic_write_text, check_writable
    from nncli.schema import schema_text

    text = schema_text()
    if output is None:
        sys.stdout.write(text)
        return
    check_writable(output, "schema")
    atomic_write_text(output, text)
    _stderr().print(Text(f"wrote {output}"))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _refuse_overwriting_inputs(outputs: dict[str, Path | None], inputs: dict[str, Path | None]) -> None:
    """Refuse a run whose output paths would overwrite one of its inputs or each other."""

    def same(a: Path, b: Path) -> bool:
        return _same_file(a, b) or a.resolve() == b.resolve()

    named = [(what, path) for what, path in outputs.items() if path is not None]
    for index, (what, path) in enumerate(named):
        for other, source in [*inputs.items(), *named[:index]]:
            if source is not None and same(path, source):
                raise ConfigError(
                    f"{path}: {what} would be written over {other} ({source}).",
                    hint="choose another output path (-o, output.model or --plot).",
                )


def _diverged_error(message: str, learning_rate: float, saved: Path, model_path: Path) -> NncliError:
    from nncli.errors import DivergedError

    return DivergedError(
        f"training diverged: {message}. They are saved in {saved}; {model_path} was not touched.",
        hint=(
            f"try a smaller training.learning_rate (now {learning_rate:g}, e.g. "
            f"--set training.learning_rate={learning_rate / 10:g}), scale the data "
            "(data.scaling: standard for features, data.target_scaling: standard for large "
            "regression targets), or limit each step with training.gradient_clip (e.g. "
            "--set training.gradient_clip=1.0)."
        ),
    )


class _first_interrupt_stops:
    """While training: the first Ctrl-C asks the loop to stop cleanly, a second one quits."""

    def __init__(self, training: Any) -> None:
        self.training = training
        self.previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        self.training.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __enter__(self) -> "_first_interrupt_stops":
        try:
            self.previous = signal.signal(signal.SIGINT, self._handler)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self.previous = None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


# -- using a saved model: predict, inspect, evaluate ----------------------------------------


def _check_delimiter(delimiter: str | None) -> None:

    if delimiter is not None and len(delimiter) != 1:
        raise ConfigError(
            f"--delimiter {delimiter!r}: give one character, such as , or ; "
            "(for a tab: --delimiter $'\\t')."
        )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


@app.command()
@handle_errors
@stdout_is_the_result
def predict(
    model: Annotated[Path, typer.Argument(help="A model file saved by nncli train (.npz).")],
    data: Annotated[
        Path,
        typer.Argument(help="CSV file with the model's feature columns, in any order; other columns are ignored."),
    ],
    output: Annotated[
        Optional[Path],
        typer.Option("--output", "-o", help="Write the CSV to FILE (atomically: complete or not at all) instead of stdout."),
    ] = None,
    keep: Annotated[
        Optional[list[str]],
        typer.Option("--keep", metavar="COLUMN", help="Copy COLUMN of DATA (e.g. an id) to the output, as text, before the predictions. Repeatable."),
    ] = None,
    delimiter: Annotated[
        Optional[str], typer.Option("--delimiter", help="The delimiter of DATA; default: detect , ; or tab.")
    ] = None,
    chunk_rows: Annotated[
        int,
        typer.Option("--chunk-rows", min=1, help="Rows read, predicted and written at a time; memory grows with it."),
    ] = 100_000,
) -> None:
    """Predict for every row of a CSV file: one output row per input row, in order.

    Regression: `<target>_predicted` in the units of the training data. Classification:
    `<target>_predicted` holds the class label, plus `<target>_probability_<class>` for
    each class. Target columns in DATA are ignored. The file is streamed --chunk-rows rows
    at a time, so its size does not matter.
    """
    import io

    from nncli.fileio import atomic_write, check_writable
    from nncli.modelfile import load_model
    from nncli.predict import Prediction, write_csv

    _check_delimiter(delimiter)
    if output is not None:
        for other, what in ((model, "model"), (data, "data")):
            if _same_file(output, other):
                raise ConfigError(f"--output {output}: is the {what} file; give another file name.")
        check_writable(output, "predictions")
    loaded = load_model(model)
    prediction = Prediction(loaded, data, keep or [], delimiter, chunk_rows)
    if output is None:
        write_csv(prediction, sys.stdout)
        sys.stdout.flush()
    else:

        def write(handle: Any) -> None:
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            write_csv(prediction, text)
            text.flush()
            text.detach()

        atomic_write(output, write)
    if prediction.unpredicted:
        warn(
            f"{prediction.unpredicted} of {prediction.rows} rows have missing feature cells "
            f"(the first: line {prediction.first_unpredicted}, column "
            f"{prediction.first_unpredicted_column!r}); the model was trained with "
            "data.missing: drop, so their prediction cells are empty."
        )
    if output is not None:
        _stderr().print(Text(f"predictions for {prediction.rows} rows written to {output}"))


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


def _report_console() -> Console:
    """stdout for tables: the terminal's width, or unlimited when piped (no squeezed cells)."""
    return _Console(soft_wrap=True, highlight=False, markup=False, width=None if sys.stdout.isatty() else 10_000)


def _print_json(content: Any) -> None:
    import json

    sys.stdout.write(json.dumps(content, indent=2, ensure_ascii=False, allow_nan=False) + "\n")
    sys.stdout.flush()


FORMAT_HELP = "table: rich tables; json: the same content as JSON, for scripts."
PRECISION = typer.Option(
    "--precision", metavar="P", min=1, max=17, help="Significant digits of the numbers shown."
)


@app.command()
@handle_errors
@stdout_is_the_result
def inspect(
    model: Annotated[Path, typer.Argument(help="A model file saved by nncli train (.npz).")],
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help=f"Show every row and column of the matrices (default: at most {MAX_ROWS} × {MAX_COLUMNS}).",
        ),
    ] = False,
    layer: Annotated[
        Optional[int], typer.Option("--layer", metavar="N", help="Show the parameters of layer L_N only (W_N and β_N).")
    ] = None,
    precision: Annotated[int, PRECISION] = 4,
    format_: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.table,
    plot: Annotated[
        Optional[Path],
        typer.Option(
            "--plot",
            metavar="PNG",
            help="Also write a PNG: the cost curve (training and validation), or with --data "
            "the decision regions / prediction surface of a two-feature model with the data "
            "points. Needs matplotlib (.venv/bin/pip install -e '.[plot]' in a checkout).",
        ),
    ] = None,
    data: Annotated[
        Optional[Path],
        typer.Option("--data", metavar="CSV", help="With --plot: the data points to draw (two-feature models)."),
    ] = None,
) -> None:
    """Show what a model file holds: architecture, cost, training summary, features and
    preprocessing, and every W_l (n_l × n_(l-1)) and β_l (n_l × 1).

    The file is only read, never changed. --format json prints the same content with the
    matrices as nested lists in full precision (--full and --precision apply to tables).
    """
    from nncli.inspection import inspection
    from nncli.modelfile import load_model
    from nncli.views import render_inspection

    if data is not None and plot is None:
        raise ConfigError("--data only applies to --plot.", hint="add --plot PNG, or leave out --data.")
    if plot is not None:
        from nncli.fileio import check_writable
        from nncli.plots import require_matplotlib

        require_matplotlib()
        check_writable(plot, "plot")
        _refuse_overwriting_inputs({"--plot": plot}, {"the model": model, "--data": data})
    loaded = load_model(model)
    if plot is not None:
        from nncli import plots
        from nncli.data import read_csv

        if data is None:
            plots.cost_curve_from_metadata(loaded.metadata, plot)
        else:
            table = read_csv(data, loaded.preprocessing.delimiter, "data")
            plots.regions(loaded.network, loaded.preprocessing, plot, table)
        _stderr().print(Text(f"plot written to {plot}"))
    content = inspection(loaded, layer)
    if format_ is OutputFormat.json:
        _print_json(content)
        return
    render_inspection(_report_console(), content, full, precision)


@app.command()
@handle_errors
@stdout_is_the_result
def evaluate(
    model: Annotated[Path, typer.Argument(help="A model file saved by nncli train (.npz).")],
    data: Annotated[
        Path, typer.Argument(help="CSV file with the model's feature and target columns (any order).")
    ],
    delimiter: Annotated[
        Optional[str], typer.Option("--delimiter", help="The delimiter of DATA; default: detect , ; or tab.")
    ] = None,
    precision: Annotated[int, PRECISION] = 4,
    format_: Annotated[OutputFormat, typer.Option("--format", help=FORMAT_HELP)] = OutputFormat.table,
    chunk_rows: Annotated[
        int, typer.Option("--chunk-rows", min=1, help="Rows read and scored at a time; memory grows with it.")
    ] = 100_000,
) -> None:
    """Score a model on a CSV file that has the targets.

    Regression: the model's cost (as training minimized it), and MSE, RMSE, MAE and R² per
    target in the target's original units. Classification: the model's cost, accuracy,
    precision, recall and F1 per class, and the confusion matrix with the class labels.
    """
    from nncli.evaluate import evaluate_file
    from nncli.modelfile import load_model
    from nncli.views import render_evaluation

    _check_delimiter(delimiter)
    report = evaluate_file(load_model(model), data, delimiter, chunk_rows)
    if format_ is OutputFormat.json:
        _print_json(report)
        return
    render_evaluation(_report_console(), report, precision)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
