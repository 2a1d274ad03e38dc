"""train never destroys its inputs and never loses a finished run: outputs that would
overwrite an input, a closed stdout, a Ctrl-C while saving, a resumed run's history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys


from nncli.cli import app
from nncli.modelfile import load_model

from conftest import ROOT


def test_output_over_the_training_data_is_refused(runner, house):
    data = house.parent / "house.csv"
    before = data.read_bytes()
    result = runner.invoke(app, ["train", str(house), "-o", str(data)])
    assert result.exit_code == 2
    assert "would be written over data.train" in result.stderr
    assert data.read_bytes() == before


def test_output_over_the_config_or_plot_over_the_model_is_refused(runner, house):
    result = runner.invoke(app, ["train", str(house), "-o", str(house)])
    assert result.exit_code == 2 and "over the config" in result.stderr
    model = house.parent / "model.npz"
    result = runner.invoke(app, ["train", str(house), "--plot", str(model)])
    assert result.exit_code == 2 and "--plot" in result.stderr and "over the model" in result.stderr
    assert not model.exists()


def test_inspect_plot_over_the_model_is_refused(runner, house):
    assert runner.invoke(app, ["train", str(house), "-q"]).exit_code == 0
    model = house.parent / "model.npz"
    before = model.read_bytes()
    result = runner.invoke(app, ["inspect", str(model), "--plot", str(model)])
    assert result.exit_code == 2 and "would be written over the model" in result.stderr
    assert model.read_bytes() == before


def test_a_closed_stdout_does_not_lose_the_model(tmp_path):
    """`nncli train … | head -1`: the reader goes away; training goes on and saves."""
    model = tmp_path / "iris.npz"
    with subprocess.Popen(
        [sys.executable, "-m", "nncli", "train", str(ROOT / "configs" / "iris.yaml"), "-o", str(model),
         "--set", "training.log_every=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.readline()
        process.stdout.close()  # like `head -1` exiting
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) == 0, stderr
    assert "Traceback" not in stderr
    assert load_model(model).training["iterations"] == 2000


def test_ctrl_c_while_saving_does_not_lose_the_run(runner, house, monkeypatch):
    import nncli.modelfile

    real_save = nncli.modelfile.save_model

    def save_with_interrupt(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # one Ctrl-C, pressed as the save starts
        return real_save(*args, **kwargs)

    monkeypatch.setattr(nncli.modelfile, "save_model", save_with_interrupt)
    result = runner.invoke(app, ["train", str(house), "-q"])
    assert result.exit_code == 0, result.output
    assert load_model(house.parent / "model.npz").training["iterations"] == 1


def test_explain_does_not_explain_a_resumed_run(runner, house):
    assert runner.invoke(app, ["train", str(house), "-q"]).exit_code == 0
    result = runner.invoke(
        app, ["train", str(house), "--explain", "--resume", str(house.parent / "model.npz"),
              "--set", "stopping.max_iterations=2"]
    )
    assert result.exit_code == 2 and "--explain" in result.stderr and "--resume" in result.stderr


def test_history_stays_aligned_when_a_resumed_run_gains_validation_data(runner, tmp_path):
    config = ROOT / "configs" / "iris.yaml"
    first = tmp_path / "a.npz"
    common = ["--set", "training.log_every=1", "--set", "stopping.loss_change_tolerance=0",
              "--set", "stopping.gradient_tolerance=0"]
    result = runner.invoke(app, ["train", str(config), "-q", "-o", str(first), "--set", "data.validation=null",
                                 "--set", "stopping.max_iterations=5", *common])
    assert result.exit_code == 0, result.output
    second = tmp_path / "b.npz"
    result = runner.invoke(app, ["train", str(config), "-q", "-o", str(second), "--resume", str(first),
                                 "--set", "stopping.max_iterations=10", *common])
    assert result.exit_code == 0, result.output
    history = load_model(second).training["history"]
    assert len(history["cost"]) == len(history["validation_cost"]) == 10
    assert history["validation_cost"][:5] == [None] * 5
    assert all(v is not None for v in history["validation_cost"][5:])
    rows = (tmp_path / "b.history.csv").read_text().splitlines()[1:]
    assert [row.split(",")[2] == "" for row in rows] == [True] * 5 + [False] * 5


def test_a_training_column_too_large_to_scale_is_a_data_error(runner, write):
    write("big.csv", "x,y\n1.7e308,1\n-1.7e308,2\n3,3\n")
    config = write(
        "c.yaml",
        "data: {train: big.csv, targets: [y]}\nnetwork: {layers: [{neurons: 1}]}\ntraining: {learning_rate: 0.1}\n",
    )
    result = runner.invoke(app, ["train", str(config), "-q"])
    assert result.exit_code == 3, result.output
    assert "column 'x'" in result.stderr and "too large to scale" in result.stderr
    assert "Warning" not in result.stderr


def test_a_long_runs_history_is_kept_bounded_and_resumes(runner, monkeypatch, tmp_path):
    """The model file keeps an even spread of a long history (numbered); resuming goes on."""
    import nncli.checkpoint

    monkeypatch.setattr(nncli.checkpoint, "HISTORY_POINTS", 50)
    config = ROOT / "configs" / "iris.yaml"
    off = ["--set", "stopping.loss_change_tolerance=null", "--set", "stopping.gradient_tolerance=0",
           "--set", "training.log_every=100"]
    first = tmp_path / "a.npz"
    result = runner.invoke(app, ["train", str(config), "-q", "-o", str(first), "--set", "stopping.max_iterations=300", *off])
    assert result.exit_code == 0, result.output
    history = load_model(first).training["history"]
    assert len(history["cost"]) == len(history["validation_cost"]) == len(history["iteration"]) == 50
    assert history["iteration"][0] == 1 and history["iteration"][-1] == 300
    second = tmp_path / "b.npz"
    result = runner.invoke(app, ["train", str(config), "-q", "-o", str(second), "--resume", str(first),
                                 "--set", "stopping.max_iterations=320", *off])
    assert result.exit_code == 0, result.output
    model = load_model(second)
    assert model.training["iterations"] == 320
    numbers = model.training["history"]["iteration"]
    assert numbers[-1] == 320 and numbers == sorted(numbers) and len(numbers) == 50
    rows = [line.split(",")[0] for line in (tmp_path / "b.history.csv").read_text().splitlines()[1:]]
    # the resumed run's history.csv numbers its rows right (the first run's own history.csv
    # has every logged row; the model file only a spread of them)
    assert rows[0] == "1" and rows[-2:] == ["300", "320"] and [int(r) for r in rows] == sorted(int(r) for r in rows)
