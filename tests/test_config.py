"""Every config error: its message (file, YAML line, dotted key, expected, found) and exit 2."""

from __future__ import annotations

import pytest

from nncli.cli import app
from nncli.config import load_config

from conftest import HOUSE_CONFIG

GOOD = HOUSE_CONFIG


def run_train(runner, path, *extra):
    return runner.invoke(app, ["train", str(path), *extra])


@pytest.fixture
def config_with(write):
    """config_with(old, new): the house config with one text replacement, and its CSV."""

    def make(old: str, new: str, name: str = "c.yaml"):
        write("house.csv", "bedrooms,price\n3,450\n")
        text = GOOD.replace(old, new, 1)
        assert text != GOOD or old == new
        return write(name, text)

    return make


def assert_config_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, f"{fragment!r} not in:\n{result.stderr}"


def line_of(path, text):
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(text)


def test_unknown_key_with_did_you_mean(runner, config_with):
    path = config_with("      activation: identity\n", "      activaton: identity\n")
    result = run_train(runner, path)
    line = line_of(path, "activaton")
    assert_config_error(
        result, str(path), f"line {line}", "network.layers[0].activaton", "unknown key", "Did you mean 'activation'?"
    )


def test_misspelled_activation_name(runner, config_with):
    path = config_with("activation: identity", "activation: sigmod")
    result = run_train(runner, path)
    assert_config_error(
        result, f"line {line_of(path, 'sigmod')}", "network.layers[0].activation", "expected one of", "'sigmod'", "Did you mean 'sigmoid'?"
    )


def test_wrong_type(runner, config_with):
    path = config_with("learning_rate: 0.001", "learning_rate: fast")
    result = run_train(runner, path)
    assert_config_error(result, f"line {line_of(path, 'fast')}", "training.learning_rate", "expected a number", "'fast'")


def test_positive_learning_rate(runner, config_with):
    path = config_with("learning_rate: 0.001", "learning_rate: -1")
    assert_config_error(run_train(runner, path), "training.learning_rate", "above 0", "-1")


def test_missing_required_key(runner, config_with):
    path = config_with("  learning_rate: 0.001\n", "  dtype: float64\n")
    assert_config_error(run_train(runner, path), "training.learning_rate", "required key is missing")


def test_duplicate_key(runner, config_with):
    path = config_with("cost: mse\n", "cost: mse\ncost: mse\n")
    assert_config_error(run_train(runner, path), "duplicate key", "cost")


def test_alias_refused(runner, write):
    write("house.csv", "bedrooms,price\n3,450\n")
    text = GOOD.replace("      weights: [[0.5]]\n      biases: [0.0]\n    - neurons: 1", "      weights: &w [[0.5]]\n      biases: [0.0]\n    - neurons: 1", 1)
    text = text.replace("      weights: [[0.5]]\n      biases: [0.0]\ncost", "      weights: *w\n      biases: [0.0]\ncost")
    path = write("alias.yaml", text)
    assert_config_error(run_train(runner, path), "anchors", "not allowed")


def test_python_tag_refused(runner, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    result = run_train(runner, path)
    assert_config_error(result, "not valid YAML", "tag")
    assert not marker.exists()


@pytest.mark.parametrize(
    "content,fragment",
    [("", "the config is empty"), ("- a\n- b\n", "expected a mapping"), ("\x00\x01\xff garbage", "UTF-8")],
)
def test_not_a_config(runner, tmp_path, content, fragment):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content.encode("latin-1"))
    assert_config_error(run_train(runner, path), fragment)


def test_missing_config_file(runner, tmp_path):
    assert_config_error(run_train(runner, tmp_path / "nope.yaml"), "config file not found")


def test_softmax_only_on_the_output_layer(runner, config_with):
    path = config_with("activation: identity", "activation: softmax")
    assert_config_error(run_train(runner, path), "network.layers[0].activation", "output layer only")


def test_categorical_cross_entropy_wants_softmax(runner, config_with):
    path = config_with("cost: mse", "cost: categorical_cross_entropy")
    assert_config_error(run_train(runner, path), "network.layers[1].activation", "needs a softmax output")


def test_binary_cross_entropy_wants_sigmoid(runner, config_with):
    path = config_with("cost: mse", "cost: binary_cross_entropy")
    assert_config_error(run_train(runner, path), "needs a sigmoid output")


def test_binary_cross_entropy_wants_two_classes(runner, write):
    write("d.csv", "x,y\n1,0\n2,1\n3,2\n")
    path = write(
        "c.yaml",
        """
        data: {train: d.csv, targets: [y]}
        network: {layers: [{neurons: 1, activation: sigmoid}]}
        cost: binary_cross_entropy
        training: {learning_rate: 0.1}
        """,
    )
    result = run_train(runner, path)
    assert result.exit_code == 3
    assert "exactly two classes" in result.stderr and "categorical_cross_entropy" in result.stderr


def test_a_stopping_criterion_must_end_the_run(runner, config_with):
    path = config_with("  max_iterations: 1\n", "  max_iterations: null\n  gradient_tolerance: 0\n  loss_change_tolerance: null\n")
    assert_config_error(run_train(runner, path), "stopping", "no stopping criterion")


def test_explicit_weights_rows(runner, config_with):
    path = config_with("weights: [[0.5]]", "weights: [[0.5], [0.1]]")
    assert_config_error(run_train(runner, path), "network.layers[0].weights", "n1 = 1 rows")


def test_explicit_weights_against_previous_layer(runner, config_with):
    path = config_with("      biases: [0.0]\ncost", "      biases: [0.0]\ncost").parent / "c.yaml"
    text = GOOD.replace("weights: [[0.5]]\n      biases: [0.0]\ncost", "weights: [[0.5, 0.5]]\n      biases: [0.0]\ncost")
    path.write_text(text)
    assert_config_error(run_train(runner, path), "network.layers[1].weights", "1 × 1", "rows of 2 numbers")


def test_explicit_weights_against_the_data(runner, config_with):
    path = config_with("weights: [[0.5]]", "weights: [[0.5, 1.0]]")
    assert_config_error(run_train(runner, path), "network.layers[0].weights", "n1 × n0 = 1 × 1", "bedrooms")


def test_biases_length(runner, config_with):
    path = config_with("biases: [0.0]", "biases: [0.0, 1.0]")
    assert_config_error(run_train(runner, path), "network.layers[0].biases", "n1 = 1 values")


def test_output_neurons_must_match_targets(runner, config_with):
    path = config_with("    - neurons: 1\n      activation: identity\n      weights: [[0.5]]\n      biases: [0.0]\ncost", "    - neurons: 2\n      activation: identity\ncost")
    result = run_train(runner, path)
    assert_config_error(result, "network.layers[1].neurons", "has 2 neurons", "1 target", "price")
    assert "line" in result.stderr


def test_output_neurons_must_match_classes(runner, write):
    write("d.csv", "x,kind\n1,a\n2,b\n3,c\n4,a\n")
    path = write(
        "c.yaml",
        """
        data: {train: d.csv, targets: [kind]}
        network:
          layers:
            - neurons: 4
              activation: tanh
            - neurons: 2
              activation: softmax
        cost: categorical_cross_entropy
        training: {learning_rate: 0.1}
        """,
    )
    result = run_train(runner, path)
    assert_config_error(result, "line 6", "network.layers[1].neurons", "3 classes", "'a', 'b', 'c'", "more classes than neurons")


def test_set_overrides_a_value(runner, house):
    result = run_train(runner, house, "--set", "stopping.max_iterations=3", "--set", "training.learning_rate=1e-4")
    assert result.exit_code == 0, result.output
    assert "reached max_iterations = 3" in result.stdout


def test_set_is_validated_like_the_file(runner, house):
    result = run_train(runner, house, "--set", "training.learning_rat=0.1")
    assert_config_error(result, "--set training.learning_rat=0.1", "unknown key", "Did you mean 'learning_rate'?")
    result = run_train(runner, house, "--set", "network.layers[5].neurons=2")
    assert_config_error(result, "network.layers[5]", "does not exist")
    result = run_train(runner, house, "--set", "no-equals-sign")
    assert_config_error(result, "expected KEY=VALUE")


def test_yaml_1_2_exponents_are_numbers(write):
    write("house.csv", "bedrooms,price\n3,450\n")
    config = load_config(write("c.yaml", GOOD.replace("learning_rate: 0.001", "learning_rate: 1e-3")))
    assert config.training.learning_rate == 0.001


def test_defaults(write):
    write("d.csv", "x,y\n1,2\n")
    config = load_config(
        write("c.yaml", "data: {train: d.csv, targets: [y]}\nnetwork: {layers: [{neurons: 1}]}\ntraining: {learning_rate: 0.1}\n")
    )
    assert config.cost == "mse" and config.seed == 0 and config.network.init == "xavier"
    assert config.network.layers[0].activation == "identity"
    assert config.stopping.max_iterations == 1000 and config.stopping.patience == 1
    assert config.training.dtype == "float64" and config.data.scaling == "standard"
    assert config.run_name == "c"
