"""The experiments of two labs, kept here so that the notebook cells stay short.

- `lab_gradient_flow`: per-layer gradient norms of deep MLPs at initialisation, for each activation
  and initialisation scheme (`grad_norm_sweep`, `plot_grad_norms`, `ratio_table`).
- `lab_dying_relu`: the fraction of dead units per hidden layer after training at several learning
  rates (`lr_sweep`, `plot_dead_fractions`, `dead_table`), and what fixes it (`fix_runs`, `fix_table`).

The measuring functions are arguments, and nothing here implements one: they are what the labs
grade. The labs pass the student's own `layer_grad_norms`, `init_weights_`, `dead_fraction` and
`with_leaky_relu`; the book's pages pass their own (book/labs/_instruments.py).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import nets

ACTIVATIONS = ["sigmoid", "tanh", "relu", "gelu"]
SCHEMES = ["default", "xavier", "he"]
SCHEME_NAMES = {"default": "PyTorch default", "xavier": "Xavier", "he": "He"}


# -- lab_gradient_flow --------------------------------------------------------------------------

def grad_norm_sweep(layer_grad_norms, init_weights_, X, y, depth, width, activations=ACTIVATIONS,
                    schemes=SCHEMES, seeds=(0,), progress=True) -> dict:
    """{(activation, scheme): per-layer gradient norms, shape (depth + 1,)} at initialisation.

    For each pair and each seed, builds an MLP (n_in -> `depth` hidden layers of `width` -> n_classes)
    on X's device, re-initialises it with `init_weights_(net, scheme)` and measures
    `layer_grad_norms(net, X, y)`; the norms of several seeds are averaged geometrically (they span
    decades). X: (batch, n_in) float32, y: (batch,) int64 labels.
    """
    from tqdm.auto import tqdm

    n_classes = int(y.max().item()) + 1
    pairs = [(a, s) for a in activations for s in schemes]
    norms = {}
    for activation, scheme in tqdm(pairs, desc="networks", disable=not progress):
        runs = []
        for seed in seeds:
            net = nets.make_mlp(X.shape[1], width, depth, n_classes, activation, seed=seed).to(X.device)
            init_weights_(net, scheme)
            runs.append(layer_grad_norms(net, X, y))
        norms[activation, scheme] = np.exp(np.log(np.asarray(runs, dtype=np.float64)).mean(axis=0))
    return norms


def plot_grad_norms(norms: dict, title=""):
    """One panel per activation, one line per scheme: gradient norm against layer (log scale)."""
    activations = list(dict.fromkeys(a for a, _ in norms))
    schemes = list(dict.fromkeys(s for _, s in norms))
    # two panels a row at most: a wider figure is shrunk to illegible text in a phone's column
    columns = min(len(activations), 2)
    rows = -(-len(activations) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 3.0 * rows), sharey=True, squeeze=False)
    for ax in axes.flat[len(activations):]:
        ax.set_visible(False)
    for ax, activation in zip(axes.flat, activations):
        for scheme in schemes:
            g = norms[activation, scheme]
            ax.semilogy(np.arange(1, len(g) + 1), g, marker="o", markersize=3, label=SCHEME_NAMES.get(scheme, scheme))
        ax.set(title=activation, xlabel="layer (input → output)")
    for ax in axes[:, 0]:
        ax.set_ylabel("‖∂L/∂W‖")
    axes.flat[0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def ratio_table(norms: dict) -> pd.DataFrame:
    """One row per (activation, scheme): first and last layer's gradient norm, first / last, and
    largest / smallest over the layers. first / last far below 1 means the input layers hardly learn."""
    rows = []
    for (activation, scheme), g in norms.items():
        rows.append({"activation": activation, "init": scheme, "first layer": g[0], "last layer": g[-1],
                     "first / last": g[0] / g[-1], "max / min": g.max() / g.min()})
    return pd.DataFrame(rows).set_index(["activation", "init"])


def ratio_grid(norms: dict) -> pd.DataFrame:
    """first / last as a grid: one row per activation, one column per scheme."""
    grid = ratio_table(norms)["first / last"].unstack("init")
    return grid.loc[list(dict.fromkeys(a for a, _ in norms)), list(dict.fromkeys(s for _, s in norms))]


# -- lab_dying_relu -----------------------------------------------------------------------------

def train_and_measure(net, dead_fraction, data, lr, epochs, seed=0, batch_size=64, probe=None) -> dict:
    """Train `net` in place with Adam at `lr`, then measure it: {"dead": per-layer dead fractions on
    `probe` (default: the training inputs), "test_accuracy", "final_loss", "seconds"}.

    data = (X_train, y_train, X_test, y_test) on the net's device.
    """
    X, y, X_test, y_test = data
    history = nets.train_classifier(net, X, y, epochs=epochs, lr=lr, seed=seed, batch_size=batch_size,
                                    X_test=X_test, y_test=y_test)
    dead = np.asarray(dead_fraction(net, X if probe is None else probe), dtype=np.float64)
    return {"dead": dead, "test_accuracy": history["test_accuracy"][-1], "final_loss": history["loss"][-1],
            "seconds": float(np.sum(history["seconds"]))}


def lr_sweep(dead_fraction, data, learning_rates, depth, width, epochs, activation="relu", init="he",
             seed=0, progress=True) -> dict:
    """{lr: train_and_measure(...)} for the same initial MLP trained at each learning rate."""
    from tqdm.auto import tqdm

    X = data[0]
    n_classes = int(data[1].max().item()) + 1
    results = {}
    for lr in tqdm(learning_rates, desc="learning rates", disable=not progress):
        net = nets.make_mlp(X.shape[1], width, depth, n_classes, activation, init, seed=seed).to(X.device)
        results[lr] = train_and_measure(net, dead_fraction, data, lr, epochs, seed)
    return results


def plot_dead_fractions(results: dict, label="lr = {:g}", title="", ax=None):
    """Grouped bars: hidden layer on the x axis, one bar per run (results: {key: {"dead": ...}})."""
    keys = list(results)
    n_layers = len(results[keys[0]]["dead"])
    width = 0.8 / len(keys)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.4))
    for i, key in enumerate(keys):
        offsets = np.arange(1, n_layers + 1) + (i - (len(keys) - 1) / 2) * width
        ax.bar(offsets, results[key]["dead"], width=width, label=label.format(key))
    ax.set(xlabel="hidden layer", ylabel="fraction of dead units", ylim=(0, 1), xticks=range(1, n_layers + 1),
           title=title)
    ax.legend()
    return ax.figure


def plot_fix(results: dict):
    """`fix_runs`' results as two panels of grouped bars: after phase 1 and after phase 2."""
    fig, axes = plt.subplots(2, 1, figsize=(6.4, 6.8), sharey=True)  # one above the other: a phone's column
    phases = list(next(iter(results.values())))
    for ax, phase in zip(axes, phases):
        plot_dead_fractions({variant: r[phase] for variant, r in results.items()}, label="{}",
                            title=f"phase {phase}", ax=ax)
    axes[1].get_legend().remove()
    fig.tight_layout()
    return fig


def dead_table(results: dict, key_name="lr") -> pd.DataFrame:
    """One row per run: dead fraction of each hidden layer, overall, and the test accuracy."""
    rows = []
    for key, r in results.items():
        row = {key_name: f"{key:g}" if isinstance(key, float) else key}
        row.update({f"layer {i + 1}": d for i, d in enumerate(r["dead"])})
        row.update({"overall": float(np.mean(r["dead"])), "test accuracy": r["test_accuracy"]})
        rows.append(row)
    return pd.DataFrame(rows).set_index(key_name)


def fix_runs(dead_fraction, with_leaky_relu, data, high_lr, low_lr, depth, width, epochs, alphas=(0.01,),
             seed=0, progress=True) -> dict:
    """Two training phases per variant, all from the same initial ReLU network (He init): phase 1,
    `epochs` at `high_lr` (where ReLU units die); phase 2, `epochs` more at `low_lr` (do they come back?).
    Variants: the ReLU network; its Leaky ReLU copies `with_leaky_relu(net, alpha)` for each alpha; and a
    ReLU control trained at `low_lr` in both phases.

    Returns {variant: {phase: measures}} with measures as `train_and_measure` gives them.
    """
    from tqdm.auto import tqdm

    X = data[0]
    n_classes = int(data[1].max().item()) + 1

    def relu_net():
        return nets.make_mlp(X.shape[1], width, depth, n_classes, "relu", "he", seed=seed).to(X.device)

    variants = {f"ReLU, lr {high_lr:g}": (relu_net(), high_lr)}
    for alpha in alphas:
        variants[f"Leaky ReLU (α = {alpha:g}), lr {high_lr:g}"] = (with_leaky_relu(relu_net(), alpha), high_lr)
    variants[f"ReLU, lr {low_lr:g}"] = (relu_net(), low_lr)
    results = {}
    bar = tqdm(total=2 * len(variants), desc="training runs", disable=not progress)
    for name, (net, first_lr) in variants.items():
        results[name] = {}
        for phase, lr in [(f"1: {epochs} epochs", first_lr), (f"2: +{epochs} at lr {low_lr:g}", low_lr)]:
            results[name][phase] = train_and_measure(net, dead_fraction, data, lr, epochs, seed)
            bar.update()
    bar.close()
    return results


def fix_table(results: dict) -> pd.DataFrame:
    """One row per (variant, phase): dead fraction of each hidden layer, overall, and test accuracy."""
    flat = {(variant, phase): r for variant, phases in results.items() for phase, r in phases.items()}
    table = dead_table(flat, key_name="run")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["variant", "phase"])
    return table
