"""What an activation costs on the device, and tools to inspect autograd: shared by the labs
`lab_speed` and `lab_autograd` and by their book pages.

Elementwise kernels do little arithmetic per byte, so their speed is set by memory traffic: a kernel
that reads `numel` values and writes `numel` values moves 2 * numel * element_size bytes, and the best
it can do is the device's copy bandwidth (measured here with `out.copy_(x)`). Every kernel is timed
writing into an output that already exists, so that the time is the kernel's and not the memory
allocator's (on a CPU, fresh pages for a 64 MiB output cost more than the kernel itself).

Timing: CUDA events on a GPU, `time.perf_counter` around the call plus a synchronisation elsewhere;
the median of `repeats` calls after `warmup` untimed ones. Sizes: the labs pass 2**28 float32 values
(1 GiB) on a GPU, 2**24 (64 MiB, twice this CPU's L3 cache) on a CPU.

Two things are the students' work and are not here. `lab_speed` grades the bandwidth arithmetic
(bytes moved, GB/s, fraction of copy bandwidth): the table computes its own figures inline and offers
no function for them. `lab_autograd` grades hand-written autograd Functions: the tools below take any
function of a tensor (a student's `Function.apply`, or PyTorch's own) and compare, time or inspect it.
"""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from . import device as devices

DTYPE = torch.float32
BIAS_WIDTH = 1024  # the bias+activation pair works on (numel / 1024, 1024) with a bias of shape (1024,)
TARGET_FRACTION = 0.8  # a fused elementwise kernel on a GPU should reach 80% of copy bandwidth

# Each activation as PyTorch computes it in a network, and as a kernel writing into an existing `out`.
ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "gelu": F.gelu, "silu": F.silu}
KERNELS = {
    "relu": lambda x, out: torch.clamp_min(x, 0.0, out=out),  # relu itself has no out= form
    "sigmoid": lambda x, out: torch.sigmoid(x, out=out),
    "tanh": lambda x, out: torch.tanh(x, out=out),
    "gelu": lambda x, out: torch.ops.aten.gelu.out(x, out=out),
    "silu": lambda x, out: torch.ops.aten.silu.out(x, out=out),
}


# -- timing --------------------------------------------------------------------------------------
def time_kernel(fn, *args, device, repeats=15, warmup=3) -> float:
    """Median seconds of one call `fn(*args)` on `device`, over `repeats` timed calls after `warmup` others.

    On cuda each call is timed by a pair of CUDA events (the GPU's own clock); elsewhere by
    perf_counter around the call followed by a synchronisation, so queued work is counted.
    """
    return time_kernels({"fn": lambda: fn(*args)}, device, repeats, warmup)["fn"]


def time_kernels(calls: dict, device, repeats=15, warmup=3, progress=False) -> dict:
    """Median seconds of each name -> fn() in `calls`, timed in rounds: each round calls every fn once.

    Taking turns means that a slow spell of a shared machine slows every kernel alike, so the ratios
    between kernels stay fair. Timing as in time_kernel; `progress=True` shows a bar over the rounds.
    """
    from tqdm.auto import tqdm

    for fn in calls.values():
        for _ in range(warmup):
            fn()
    devices.synchronize(device)
    seconds = {name: [] for name in calls}
    for _ in tqdm(range(repeats), desc="timing rounds", leave=False, disable=not progress):
        for name, fn in calls.items():
            seconds[name].append(_time_one_call(fn, device))
    return {name: statistics.median(values) for name, values in seconds.items()}


def _time_one_call(fn, device) -> float:
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1e3  # elapsed_time is in milliseconds
    started = time.perf_counter()
    fn()
    devices.synchronize(device)
    return time.perf_counter() - started


def inputs(device, numel, dtype=DTYPE, seed=0):
    """x of shape (numel / BIAS_WIDTH, BIAS_WIDTH), standard normal, and a bias b of shape (BIAS_WIDTH,)."""
    if numel % BIAS_WIDTH:
        raise ValueError(f"numel must be a multiple of {BIAS_WIDTH}, got {numel}")
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(numel // BIAS_WIDTH, BIAS_WIDTH, generator=generator, dtype=dtype).to(device)
    b = torch.randn(BIAS_WIDTH, generator=generator, dtype=dtype).to(device)
    return x, b


def copy_bandwidth(device, numel, dtype=DTYPE, repeats=15) -> dict:
    """The device's copy bandwidth for `numel` values: {"seconds", "bytes", "GB/s"} of `out.copy_(x)`.

    A copy reads every value once and writes it once, 2 * numel * element_size bytes; GB = 1e9 bytes.
    """
    x, _ = inputs(device, numel, dtype)
    out = torch.empty_like(x)
    seconds = time_kernel(out.copy_, x, device=device, repeats=repeats)
    nbytes = 2 * numel * dtype.itemsize
    return {"seconds": seconds, "bytes": nbytes, "GB/s": nbytes / seconds / 1e9}


# -- bias + activation, fused and unfused ---------------------------------------------------------
def unfused_bias_activation(name):
    """`z = x + b; out = act(z)` as two kernels: x read, z written, z read, out written (4 passes)."""
    kernel = KERNELS[name]

    def run(x, b, z, out):
        torch.add(x, b, out=z)
        kernel(z, out)
    return run


_COMPILED = {}


def fused_bias_activation(name, compiled=True):
    """`out = act(x + b)` compiled by torch.compile into one kernel: x read, out written (2 passes).

    Compiled once per activation and process (the first call takes 10-70 s on a CPU, seconds on a
    GPU). With `compiled=False` the same function runs eagerly as two kernels: a stand-in for smoke
    tests only, whose timing says nothing about fusion.
    """
    act = ACTIVATIONS[name]

    def bias_activation(x, b, out):
        out.copy_(act(x + b))  # inductor writes act(x + b) straight into out: no temporary
    if not compiled:
        return bias_activation
    if name not in _COMPILED:
        _COMPILED[name] = torch.compile(bias_activation)
    return _COMPILED[name]


# -- the table ------------------------------------------------------------------------------------
def activation_table(device, numel, repeats=15, fused=("relu", "gelu"), compiled=None, progress=True) -> list[dict]:
    """Time the copy, each activation, and the bias+activation pairs of `fused`, unfused and fused.

    Returns one dict per kernel: "kernel" (a label), "kind" ("copy", "activation", "unfused" or
    "fused"), "activation" (its name; None for the copy), "passes" over memory, "seconds" per call,
    "bytes" moved, "GB/s" achieved (GB = 1e9 bytes) and "of copy" (GB/s as a fraction of the copy's).
    `compiled=None` compiles the fused kernels except in a smoke test (see device.smoke_test), where they
    run eagerly. All kernels are timed in turns (see time_kernels); progress bars follow the
    compilation and the timing rounds.
    """
    from tqdm.auto import tqdm

    compiled = not devices.smoke_test() if compiled is None else compiled
    x, b = inputs(device, numel)
    z, out = torch.empty_like(x), torch.empty_like(x)
    jobs = [("copy", "copy", None, 2, lambda: out.copy_(x))]
    jobs += [(name, "activation", name, 2, lambda k=kernel: k(x, out)) for name, kernel in KERNELS.items()]
    for name in fused:
        run_unfused, run_fused = unfused_bias_activation(name), fused_bias_activation(name, compiled)
        how = "fused by torch.compile" if compiled else "NOT compiled: smoke test"
        jobs.append((f"x + b, then {name} (2 kernels)", "unfused", name, 4, lambda f=run_unfused: f(x, b, z, out)))
        jobs.append((f"{name}(x + b) ({how})", "fused", name, 2, lambda f=run_fused: f(x, b, out)))
    if compiled:  # the first call compiles (seconds to a minute): do it under a progress bar of its own
        for name in tqdm(fused, desc="compiling", leave=False, disable=not progress):
            fused_bias_activation(name)(x, b, out)
    seconds = time_kernels({label: fn for label, *_, fn in jobs}, device, repeats, progress=progress)
    rows = []
    for label, kind, activation, passes, _ in jobs:
        nbytes = passes * numel * DTYPE.itemsize
        rows.append({"kernel": label, "kind": kind, "activation": activation, "passes": passes,
                     "seconds": seconds[label], "bytes": nbytes, "GB/s": nbytes / seconds[label] / 1e9})
    for row in rows:
        row["of copy"] = row["GB/s"] / rows[0]["GB/s"]
    return rows


def find(rows, kind, activation=None) -> dict:
    """The fastest row (in GB/s) of an activation_table of this `kind`, and of this `activation` if given."""
    return max((row for row in rows if row["kind"] == kind and activation in (None, row["activation"])),
               key=lambda row: row["GB/s"])


def as_frame(rows):
    """The table as a pandas DataFrame for display: ms per call, MB moved, GB/s and % of copy."""
    import pandas as pd

    return pd.DataFrame({
        "kernel": [r["kernel"] for r in rows],
        "passes": [r["passes"] for r in rows],
        "ms per call": [round(r["seconds"] * 1e3, 3) for r in rows],
        "MB moved": [round(r["bytes"] / 1e6, 1) for r in rows],
        "GB/s": [round(r["GB/s"], 1) for r in rows],
        "% of copy": [round(100 * r["of copy"]) for r in rows],
    }).set_index("kernel")


def verdict(rows, device) -> str:
    """One line that states, on this device, how the best fused bias+activation compares with copy bandwidth."""
    best, copy = find(rows, "fused"), find(rows, "copy")
    where = "GPU" if device.type == "cuda" else "CPU"
    target = f"{'meets' if best['of copy'] >= TARGET_FRACTION else 'misses'} the {TARGET_FRACTION:.0%} target"
    line = (f"Verdict ({where}): the best fused bias+activation kernel, {best['kernel']}, reaches "
            f"{best['of copy']:.0%} of copy bandwidth ({best['GB/s']:.1f} of {copy['GB/s']:.1f} GB/s): {target}")
    if devices.smoke_test():
        line += " (smoke test: tiny sizes, not compiled; these figures mean nothing)"
    elif where == "CPU":
        line += " (the target is for a GPU)"
    return line


def plot_table(rows, ax=None):
    """Horizontal bars of achieved GB/s per kernel, with the copy bandwidth as a dashed line."""
    import matplotlib.pyplot as plt

    from .plots import COLOURS

    if ax is None:
        # narrow bars: the kernels' names take 3 inches beside them, and the whole must fit a phone
        _, ax = plt.subplots(figsize=(3.4, 0.5 * len(rows) + 1.2))
    colours = {"copy": "grey", "activation": COLOURS[0], "unfused": COLOURS[1], "fused": COLOURS[2]}
    labels = [r["kernel"] for r in rows][::-1]
    ax.barh(labels, [r["GB/s"] for r in rows][::-1], color=[colours[r["kind"]] for r in rows][::-1])
    ax.axvline(find(rows, "copy")["GB/s"], color="black", linestyle="--", linewidth=1, label="copy bandwidth")
    for y, r in enumerate(rows[::-1]):
        ax.text(r["GB/s"], y, f" {r['of copy']:.0%}", va="center")
    ax.set(xlabel="achieved GB/s\n(bytes moved / time, GB = $10^9$ bytes)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1))  # above the bars, clear of them
    return ax


def bandwidth_sweep(device, sizes, names=("copy", "relu", "gelu"), repeats=9, progress=True) -> dict:
    """Achieved GB/s of `out.copy_(x)` and of activation kernels for each numel in `sizes`.

    Returns {name: numpy array of GB/s, one per size}. Small sizes show the fixed cost of a call
    (and, on a CPU, the caches); large ones the memory's bandwidth.
    """
    from tqdm.auto import tqdm

    kernels = {"copy": lambda x, out: out.copy_(x), **KERNELS}
    gbps = {name: [] for name in names}
    for numel in tqdm(sizes, desc="sizes", leave=False, disable=not progress):
        x, _ = inputs(device, numel)
        out = torch.empty_like(x)
        seconds = time_kernels({name: lambda k=kernels[name]: k(x, out) for name in names}, device, repeats)
        for name in names:
            gbps[name].append(2 * numel * DTYPE.itemsize / seconds[name] / 1e9)
    return {name: np.array(values) for name, values in gbps.items()}


def plot_sweep(sizes, gbps, ax=None):
    """GB/s against bytes per tensor (log-log), one line per kernel of a bandwidth_sweep."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    megabytes = np.asarray(sizes) * DTYPE.itemsize / 2**20
    for name, values in gbps.items():
        ax.plot(megabytes, values, marker="o", markersize=3, label=name)
    ax.set(xscale="log", yscale="log", xlabel="size of one tensor (MiB, float32)", ylabel="achieved GB/s")
    ax.legend()
    return ax


# -- autograd: compare, inspect, time, train -----------------------------------------------------
def value_and_grad(fn, x, grad_output=None):
    """fn(x) and the gradient of sum(fn(x) * grad_output) with respect to x, as numpy arrays.

    x is array-like (its dtype is kept if it is float32 or float64); grad_output defaults to ones.
    """
    t = torch.as_tensor(np.asarray(x)).clone().requires_grad_(True)
    y = fn(t)
    g = torch.ones_like(y) if grad_output is None else torch.as_tensor(np.asarray(grad_output), dtype=y.dtype)
    (dx,) = torch.autograd.grad(y, t, g)
    return y.detach().numpy(), dx.numpy()


def compare_with_reference(functions: dict, x) -> list[dict]:
    """For each name -> (fn, reference): the largest |difference| of values and of gradients on x, in float64."""
    rows = []
    for name, (fn, reference) in functions.items():
        y, dy = value_and_grad(fn, np.asarray(x, dtype=np.float64))
        y_ref, dy_ref = value_and_grad(reference, np.asarray(x, dtype=np.float64))
        rows.append({"function": name, "max |value error|": float(np.max(np.abs(y - y_ref))),
                     "max |gradient error|": float(np.max(np.abs(dy - dy_ref)))})
    return rows


def plot_against_reference(functions: dict, x=None):
    """One panel per name -> (fn, reference): the reference's f and f' as lines, fn's as dots on top."""
    import matplotlib.pyplot as plt

    x = np.linspace(-5, 5, 201) if x is None else np.asarray(x, dtype=np.float64)
    columns = min(len(functions), 2)  # two panels a row at most: legible in a phone's column
    rows = -(-len(functions) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3.2 * columns, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(functions):]:
        ax.set_visible(False)
    for ax, (name, (fn, reference)) in zip(axes.flat, functions.items()):
        y_ref, dy_ref = value_and_grad(reference, x)
        y, dy = value_and_grad(fn, x)
        ax.plot(x, y_ref, label="$f$ (PyTorch)")
        ax.plot(x, dy_ref, linestyle="--", label="$f'$ (PyTorch)")
        ax.plot(x[::8], y[::8], "o", markersize=3, color="black", label="yours")
        ax.plot(x[::8], dy[::8], "o", markersize=3, color="black")
        ax.set_title(name)
    axes.flat[0].legend(loc="upper left")
    fig.tight_layout()
    return fig


def saved_for_backward(fn, x) -> dict:
    """What autograd keeps for the backward pass of fn(x): the count of distinct tensors and their bytes.

    Counted with torch.autograd.graph.saved_tensors_hooks; a tensor saved twice (the same storage) counts once.
    """
    t = torch.as_tensor(x).clone().requires_grad_(True)
    storages = {}

    def pack(saved):
        storages[saved.untyped_storage().data_ptr()] = saved.untyped_storage().nbytes()
        return saved
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda saved: saved):
        fn(t)
    return {"tensors": len(storages), "bytes": sum(storages.values())}


def forward_backward_seconds(functions: dict, device, numel, repeats=9, progress=False) -> dict:
    """Median seconds of y = fn(x); y.backward(g) for each name -> fn, on float32 x of `numel` values.

    x and g are standard normal; the functions take turns (see time_kernels). Returns {name: seconds}.
    """
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(numel, generator=generator).to(device).requires_grad_(True)
    g = torch.randn(numel, generator=generator).to(device)

    def step(fn):
        x.grad = None
        fn(x).backward(g)
    calls = {name: (lambda fn=fn: step(fn)) for name, fn in functions.items()}
    return time_kernels(calls, device, repeats, warmup=2, progress=progress)


def autograd_footprint(functions: dict, device, numel, repeats=7) -> list[dict]:
    """For each name -> fn of a tensor: what autograd records and what a forward + backward pass costs.

    Returns one dict per function: "function", "grad_fn" (the class name of the output's grad_fn),
    "tensors saved" and "bytes saved per element" (see saved_for_backward) and "ms forward + backward"
    on `numel` float32 values (see forward_backward_seconds).
    """
    probe = torch.randn(1000)
    seconds = forward_backward_seconds(functions, device, numel, repeats)
    rows = []
    for name, fn in functions.items():
        saved = saved_for_backward(fn, probe)
        node = fn(probe.clone().requires_grad_(True)).grad_fn
        rows.append({"function": name, "grad_fn": type(node).__name__, "tensors saved": saved["tensors"],
                     "bytes saved per element": saved["bytes"] / probe.numel(),
                     "ms forward + backward": round(seconds[name] * 1e3, 2)})
    return rows


def centred_difference_errors(fn, x, steps, dtype) -> np.ndarray:
    """Largest relative error between autograd's f'(x) and the centred difference (f(x+h) - f(x-h)) / 2h.

    Computed in `dtype` for each h in `steps` (autograd's own f' in float64 is the truth); the
    relative error is |numeric - exact| / max(|exact|, 1e-3). Returns one value per step.
    """
    x64 = torch.as_tensor(np.asarray(x, dtype=np.float64))
    exact = torch.from_numpy(value_and_grad(fn, x64.numpy())[1])
    errors = []
    with torch.no_grad():
        for h in steps:
            xs = x64.to(dtype)
            numeric = (fn(xs + h).double() - fn(xs - h).double()) / (2 * h)
            errors.append(((numeric - exact).abs() / exact.abs().clamp_min(1e-3)).max().item())
    return np.array(errors)


def plot_difference_errors(steps, errors: dict, ax=None, eps=1e-6, rtol=1e-3):
    """Relative error of centred differences against the step h (log-log), one line per name -> errors
    (see centred_difference_errors), with gradcheck's default step `eps` and tolerance `rtol` marked.

    Names are "function, dtype": one colour per function, dashed lines for float32."""
    import matplotlib.pyplot as plt

    from .plots import COLOURS

    if ax is None:
        _, ax = plt.subplots()
    functions = list(dict.fromkeys(name.split(",")[0] for name in errors))
    for name, values in errors.items():
        ax.plot(steps, values, marker="o", markersize=3, color=COLOURS[functions.index(name.split(",")[0])],
                linestyle="--" if "float32" in name else "-", label=name)
    ax.axvline(eps, color="black", linewidth=0.8, linestyle=":")
    ax.axhline(rtol, color="black", linewidth=0.8, linestyle=":")
    ax.annotate("gradcheck's step and tolerance", (eps, rtol), textcoords="offset points", xytext=(6, 6))
    ax.set(xscale="log", yscale="log", xlabel="step $h$", ylabel="largest relative error")
    ax.invert_xaxis()
    ax.legend()
    return ax


class FunctionActivation(nn.Module):
    """A module that applies `apply(x, *args)`: puts an autograd Function (its `.apply`) into a network."""

    def __init__(self, apply, *args):
        super().__init__()
        self.apply_fn, self.args = apply, args

    def forward(self, x):
        return self.apply_fn(x, *self.args)


def train_with_activations(activations: dict, epochs=15, width=128, depth=2, lr=3e-3, seed=0, device=None) -> dict:
    """Train the same MLP on scikit-learn's digits once per name -> activation module factory.

    Every run starts from the same weights (seed) and sees the same batches, so two activations that
    compute the same function and gradient give the same curves. Returns {name: history} as
    nets.train_classifier returns it (loss and test accuracy per epoch).
    """
    from tqdm.auto import tqdm

    from . import nets

    device = device or torch.device("cpu")
    X_train, y_train, X_test, y_test = (t.to(device) for t in nets.digits(seed=0))
    histories = {}
    for name, make_activation in tqdm(activations.items(), desc="activations", leave=False):
        model = nets.make_mlp(64, width, depth, 10, activation="identity", init="xavier", seed=seed)
        for i, module in enumerate(model):
            if isinstance(module, nn.Identity):
                model[i] = make_activation()
        histories[name] = nets.train_classifier(model.to(device), X_train, y_train, epochs=epochs, lr=lr, seed=seed,
                                                X_test=X_test, y_test=y_test)
    return histories


def plot_training(histories: dict, ax=None):
    """Training loss per epoch of each run of train_with_activations, taken in pairs: the first of a pair
    as a line, the second as open circles in the same colour (a reference and its copy should coincide)."""
    import matplotlib.pyplot as plt

    from .plots import COLOURS

    if ax is None:
        _, ax = plt.subplots()
    for i, (name, history) in enumerate(histories.items()):
        epochs, colour = np.arange(1, len(history["loss"]) + 1), COLOURS[(i // 2) % len(COLOURS)]
        if i % 2 == 0:
            ax.plot(epochs, history["loss"], color=colour, label=name)
        else:
            ax.plot(epochs, history["loss"], "o", color=colour, markerfacecolor="none", label=name)
    ax.set(xlabel="epoch", ylabel="training loss", yscale="log")
    ax.legend()
    return ax
