"""One figure style for the whole course, and the plots that chapters and labs share."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def use_course_style():
    """Readable sizes, a light grid, no top or right frame, and the course's colour cycle.

    Text is set large (13 pt) because a phone shows a figure about 340 px wide: a figure 6.4 inches wide
    (about 720 px with its labels) has its 13 pt text rendered at about 9.5 px there, 9 px being the least
    that reads (tests/test_book.py measures it). So figures keep to 6.4 inches: panels go one above the other."""
    plt.rcParams.update({
        "figure.figsize": (6.4, 3.6), "figure.dpi": 110, "savefig.bbox": "tight",
        "font.size": 13, "axes.titlesize": 13, "axes.labelsize": 13,
        "xtick.labelsize": 13, "ytick.labelsize": 13, "legend.fontsize": 13,
        "axes.spines.top": False, "axes.spines.right": False,
        "axes.grid": True, "grid.alpha": 0.3, "legend.frameon": False,
        "axes.prop_cycle": plt.cycler(color=COLOURS), "lines.linewidth": 2,
    })


def plot_curves(ax, x, curves: dict, title="", xlabel="$x$", ylabel=""):
    """Draw each named curve (label -> y of the same shape as x) on `ax`, with axes through 0."""
    for label, y in curves.items():
        ax.plot(x, y, label=label)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if len(curves) > 1:
        # below the axes, where it cannot cover a curve
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=min(len(curves), 2))
    return ax


def activation_grid(x, functions: dict, derivatives: dict, columns=2):
    """One small panel per activation with f (solid) and f' (dashed); x has shape (n,), each curve too."""
    rows = int(np.ceil(len(functions) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(3.0 * columns, 2.4 * rows), sharex=True)
    for ax, name in zip(axes.flat, functions):
        ax.plot(x, functions[name], label="$f$")
        ax.plot(x, derivatives[name], linestyle="--", label="$f'$")
        ax.axhline(0, color="black", linewidth=0.5)
        ax.axvline(0, color="black", linewidth=0.5)
        ax.set_title(name)
    for ax in list(axes.flat)[len(functions):]:
        ax.set_visible(False)
    axes.flat[0].legend(loc="upper left")
    fig.tight_layout()
    return fig


def plot_points(ax, X, y, markers=("o", "s")):
    """Scatter the 2-d points X (n, 2) with one colour and marker per integer class in y (n,)."""
    for label in np.unique(y):
        ax.scatter(*X[y == label].T, s=24, marker=markers[int(label) % len(markers)], color=COLOURS[int(label)],
                   edgecolor="white", linewidth=0.5, label=f"class {label}", zorder=3)
    ax.set(xlabel="$x_1$", ylabel="$x_2$")
    return ax


def plot_decision_boundary(ax, predict, X, y, title="", resolution=200, margin=0.5):
    """Shade the class, 0 or 1, that `predict` (grid (m, 2) -> labels (m,)) gives around X (n, 2); scatter X by y (n,)."""
    lo, hi = X.min(axis=0) - margin, X.max(axis=0) + margin
    g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    labels = np.asarray(predict(np.column_stack([g1.ravel(), g2.ravel()]))).reshape(g1.shape)
    ax.contourf(g1, g2, labels, levels=[-0.5, 0.5, 1.5], cmap=ListedColormap(COLOURS[:2]), alpha=0.18)
    if labels.min() != labels.max():  # a one-class prediction has no boundary to draw
        ax.contour(g1, g2, labels, levels=[0.5], colors="black", linewidths=1)
    plot_points(ax, X, y)
    ax.set(title=title, xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), aspect="equal")
    return ax
