"""Small models, each trained once per test session (see model_files.train_model).

A pytest plugin: the test modules that use these fixtures say
``pytest_plugins = ["model_fixtures"]`` (this folder is on sys.path under pytest's default
import mode), so a model is trained once however many modules use it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model_files import DATASETS, mixed_model, small_config, train_model


@pytest.fixture(scope="session")
def saved_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def iris_model(saved_models_dir: Path) -> Path:
    """4 → 6 (tanh) → 3 (softmax) on datasets/iris.csv, categorical cross-entropy."""
    config = small_config(
        str(DATASETS / "iris.csv"), None, ["species"],
        [{"neurons": 6, "activation": "tanh"}, {"neurons": 3, "activation": "softmax"}],
        "categorical_cross_entropy", 0.5, 150,
    )
    return train_model(saved_models_dir, "iris", config)


@pytest.fixture(scope="session")
def diabetes_model(saved_models_dir: Path) -> Path:
    """10 → 5 (relu) → 1 on datasets/diabetes.csv, mse, standard-scaled target."""
    config = small_config(
        str(DATASETS / "diabetes.csv"), None, ["progression"],
        [{"neurons": 5, "activation": "relu"}, {"neurons": 1}],
        "mse", 0.05, 150, target_scaling="standard",
    )
    return train_model(saved_models_dir, "diabetes", config)


@pytest.fixture(scope="session")
def cancer_model(saved_models_dir: Path) -> Path:
    """30 → 1 (sigmoid) on datasets/breast-cancer.csv: logistic regression, binary CE."""
    config = small_config(
        str(DATASETS / "breast-cancer.csv"), None, ["diagnosis"],
        [{"neurons": 1, "activation": "sigmoid"}],
        "binary_cross_entropy", 0.5, 100,
    )
    return train_model(saved_models_dir, "cancer", config)


@pytest.fixture(scope="session")
def mixed_drop_model(saved_models_dir: Path) -> Path:
    return mixed_model(saved_models_dir, "drop")


@pytest.fixture(scope="session")
def mixed_mean_model(saved_models_dir: Path) -> Path:
    return mixed_model(saved_models_dir, "mean")
