"""The activation shootout: one MLP trained on MNIST-5k with each activation; test accuracy per epoch,
the final test loss and accuracy, and seconds per epoch.

Every activation gets the same architecture, the same seed (so the same draw of the random numbers
before scaling, and the same order of mini-batches), the same optimiser (Adam by default) and the same
learning rate: the activation and the weight scale that goes with it are the only differences.
Building the network with its matching initialisation and scoring it are the lab's graded functions
(`build_mlp`, `evaluate`): the caller passes them, and nothing here implements them.
"""
from __future__ import annotations

import torch
from matplotlib.ticker import MaxNLocator

from . import nets
from .plots import COLOURS

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "silu")

# Experiment sizes for device.lab_size. CPU: all eight train in well under a minute on two cores; GPU: sized
# for one data-centre GPU (H100 class); SMOKE: just enough to run every line when the grader executes a
# submission.
CPU_SIZE = {"width": 128, "depth": 8, "epochs": 5, "batch_size": 128}
GPU_SIZE = {"width": 1024, "depth": 8, "epochs": 20, "batch_size": 128}
SMOKE_SIZE = {"width": 16, "depth": 2, "epochs": 1, "batch_size": 500}

NAMES = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "Leaky ReLU", "elu": "ELU",
         "selu": "SELU", "gelu": "GELU", "silu": "SiLU"}


def run_shootout(data, build, evaluate, activations=ACTIVATIONS, width=128, depth=8, epochs=5, batch_size=128,
                 lr=1e-3, optimizer="adam", seed=0, device="cpu", progress=True) -> dict[str, dict]:
    """Train one MLP per activation on `data` = (X_train, y_train, X_test, y_test) and measure it.

    `build(n_in, width, depth, n_out, activation)` makes each model, right after torch.manual_seed(seed);
    `evaluate(model, X, y) -> (loss, accuracy)` scores it on the test set after training; `optimizer` is
    "adam" or "sgd" (see nets.train_classifier).
    Returns {activation: {"loss", "seconds", "test_accuracy" (one per epoch), "test_loss",
    "final_accuracy"}}: training loss, wall seconds and test accuracy per epoch, then the final scores.
    """
    from tqdm.auto import tqdm

    X_train, y_train, X_test, y_test = (t.to(device) for t in data)
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    results = {}
    bar = tqdm(activations, desc="activations", disable=not progress)
    for activation in bar:
        bar.set_postfix_str(activation)
        torch.manual_seed(seed)
        model = build(X_train.shape[1], width, depth, n_classes, activation).to(device)
        history = nets.train_classifier(model, X_train, y_train, epochs=epochs, lr=lr, optimizer=optimizer,
                                        batch_size=batch_size, seed=seed, X_test=X_test, y_test=y_test,
                                        progress=progress)
        test_loss, final_accuracy = evaluate(model, X_test, y_test)
        results[activation] = {**history, "test_loss": float(test_loss), "final_accuracy": float(final_accuracy)}
    return results


def seconds_per_epoch(result) -> float:
    """The fastest epoch's wall time: the one least disturbed by other work on the machine
    (and, on a GPU, by the first epoch's start-up)."""
    return min(result["seconds"])


def results_table(results):
    """A pandas DataFrame, one row per activation: final test accuracy and loss, best test accuracy of
    any epoch, seconds per epoch (fastest epoch) and in all."""
    import pandas as pd

    rows = {NAMES.get(a, a): {"final accuracy": r["final_accuracy"],
                              "test loss": r["test_loss"], "best accuracy": max(r["test_accuracy"]),
                              "s / epoch": seconds_per_epoch(r), "s in all": sum(r["seconds"])}
            for a, r in results.items()}
    return pd.DataFrame.from_dict(rows, orient="index").round(
        {"final accuracy": 3, "test loss": 3, "best accuracy": 3, "s / epoch": 2, "s in all": 1})


def plot_learning_curves(results, ax=None, chance=0.1):
    """Test accuracy after each epoch, one line per activation, with chance level dashed."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.0))
    for colour, (activation, r) in zip(COLOURS * 2, results.items()):
        epochs = range(1, len(r["test_accuracy"]) + 1)
        ax.plot(epochs, r["test_accuracy"], marker="o", markersize=3, color=colour, label=NAMES.get(activation, activation))
    ax.axhline(chance, color="black", linestyle="--", linewidth=0.8, label="chance")
    ax.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1), title="Learning curves")
    n_epochs = max(len(r["test_accuracy"]) for r in results.values())
    ax.set_xlim(0.5, n_epochs + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=min(n_epochs, 10), integer=True, min_n_ticks=1))
    # below the plot: the curves bunch at the top, and beside it the figure would be too wide for a phone
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=3)
    return ax


def plot_summary(results):
    """Two bar charts, one above the other: final test accuracy, and seconds per epoch (fastest epoch)."""
    import matplotlib.pyplot as plt

    names = [NAMES.get(a, a) for a in results]
    colours = (COLOURS * 2)[:len(names)]
    fig, (left, right) = plt.subplots(2, 1, figsize=(6.4, 7.0))
    left.bar(names, [r["final_accuracy"] for r in results.values()], color=colours)
    left.set(ylabel="final test accuracy", ylim=(0, 1), title="Accuracy after training")
    right.bar(names, [seconds_per_epoch(r) for r in results.values()], color=colours)
    right.set(ylabel="seconds per epoch", title="Training time")
    for ax in (left, right):
        ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    return fig
