"""One figure style for the whole course, and the plots that chapters and labs share."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def use_course_style():
    """Readable sizes, a light grid, no top or right frame, and the course's colour cycle."""
    plt.rcParams.update({
        "figure.figsize": (6.4, 3.6), "figure.dpi": 110, "savefig.bbox": "tight",
        "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10,
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
        ax.legend()
    return ax


def activation_grid(x, functions: dict, derivatives: dict, columns=4):
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
