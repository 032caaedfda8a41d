"""The activation explorer (book/explorer.md, book/_static/explorer.js): its math agrees with PyTorch in float64,
its random products of local gradients are reproducible and right, and the page works offline in a browser.

The JavaScript is evaluated with Node (no browser needed) for the math, and in Debian's Chromium through
Playwright for the page, opened from file:// with every other request refused.
"""
import json
import math
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
BOOK = REPO / "book"
EXPLORER_JS = BOOK / "_static" / "explorer.js"
EXPLORER_CSS = BOOK / "_static" / "explorer.css"
CHROMIUM = Path("/usr/bin/chromium")
NODE = shutil.which("node")

# Values: the formulas are float64 and accurate to a few ulp, so 1e-12 leaves room for the difference between
# two correct evaluations (glibc's and V8's exp, log1p, tanh) and nothing else; the absolute 1e-300 only lets
# results that both sides underflow to (sub)normal zero agree.
VALUE_TOL = {"rtol": 1e-12, "atol": 1e-300}
# Derivatives: PyTorch's autograd formulas are accurate only in absolute terms in the tails, where
# sigma(1 - sigma), 1 - tanh^2 and 1 - s_0 cancel (sigmoid'(40) = 4e-18 comes out exactly 0 there, while the
# explorer computes sigma(x) sigma(-x) = 4.2e-18), so derivatives also get an absolute 1e-15.
SLOPE_TOL = {"rtol": 1e-12, "atol": 1e-15}

X_POINTS = sorted({-800.0, -50.0, -20.0, -10.0, -8.0, -5.0, -3.0, -2.0, -1.0, -0.5, -1e-3, -1e-8, 0.0, 1e-8, 1e-3,
                   0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 10.0, 20.0, 50.0, 800.0, *np.linspace(-6, 6, 25).tolist()})
SQRT1_2 = 1 / math.sqrt(2)
GELU_TANH_K = math.sqrt(2 / math.pi)


# ---------------------------------------------------------------------------------------------------------
# Node: evaluate the explorer's formulas outside a browser
# ---------------------------------------------------------------------------------------------------------
# Loads explorer.js afresh for every request (so a request's `patch`, a deliberately wrong formula, stays in
# that request), with a bare `window` and no `document`: the script then defines its math and draws nothing.
NODE_RUNNER = r"""
const fs = require("fs");
const source = fs.readFileSync(process.argv[1], "utf8");
const load = () => { const w = {}; new Function("window", source)(w); return w.ActivationExplorer; };
const enc = (v) => (Number.isFinite(v) ? v : String(v));
const requests = JSON.parse(fs.readFileSync(0, "utf8"));
const answers = requests.map((r) => {
  const AE = load();
  if (r.patch) new Function("AE", r.patch)(AE);
  const F = AE.formulas;
  switch (r.kind) {
    case "elementwise":
      return { f: r.xs.map((x) => enc(F.f(r.name, x, r.params))), df: r.xs.map((x) => enc(F.df(r.name, x, r.params))) };
    case "vector":
      return { softmax: F.softmax(r.vector, r.temperature).map(enc), log_softmax: F.logSoftmax(r.vector, r.temperature).map(enc) };
    case "erf":
      return { erf: r.xs.map((x) => enc(F.erf(x))), erfc: r.xs.map((x) => enc(F.erfc(x))) };
    case "draw":
      return Array.from(AE.stats.drawPreactivations(r.n, r.depth, r.distribution, r.sigma, r.seed), enc);
    case "products": {
      const p = AE.stats.gradientProducts(r.name, r.params, r.options);
      return { median: p.median.map(enc), low: p.low.map(enc), high: p.high.map(enc), zeroFraction: p.zeroFraction, band: p.band };
    }
    case "value":
      return new Function("AE", "return " + r.expr)(AE);
  }
  throw new Error("unknown request kind " + r.kind);
});
process.stdout.write(JSON.stringify(answers));
"""

needs_node = pytest.mark.skipif(NODE is None, reason="`node` is not on PATH: the explorer's math is checked with Node")


def run_js(requests: list[dict]) -> list:
    """Answers to `requests` (see NODE_RUNNER) from one Node process; non-finite numbers come back as floats."""
    done = subprocess.run([NODE, "-e", NODE_RUNNER, str(EXPLORER_JS)], input=json.dumps(requests),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"node failed:\n{done.stderr}"
    return json.loads(done.stdout, parse_constant=float,
                      object_hook=lambda d: {k: _floats(v) for k, v in d.items()})


def _floats(value):
    if isinstance(value, list):
        return [float(v) if isinstance(v, str) else v for v in value]
    return value


def js_curve(name, xs, params=None, patch=None):
    """The explorer's f and f' of `name` at xs, as two float64 arrays."""
    (answer,) = run_js([{"kind": "elementwise", "name": name, "xs": list(map(float, xs)), "params": params or {},
                         "patch": patch}])
    return np.array(answer["f"], dtype=np.float64), np.array(answer["df"], dtype=np.float64)


def assert_matches(actual, expected, *, rtol, atol, what, xs=None):
    """|actual - expected| <= atol + rtol |expected| everywhere; NaN and infinities never match."""
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(actual - expected) <= atol + rtol * np.abs(expected)
    if not ok.all():
        where = np.flatnonzero(~ok)[:5]
        lines = [f"  at {'x = %r' % xs[i] if xs is not None else 'entry %d' % i}: explorer {actual[i]!r}, "
                 f"torch {expected[i]!r}" for i in where]
        raise AssertionError(f"{what}: {int((~ok).sum())} of {ok.size} values differ (rtol {rtol}, atol {atol})\n"
                             + "\n".join(lines))


# ---------------------------------------------------------------------------------------------------------
# PyTorch float64 references
# ---------------------------------------------------------------------------------------------------------
def torch_value_and_slope(fn, xs):
    """fn(x) and fn'(x) by autograd in float64, for an fn whose output i depends on input i only."""
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    y = fn(t)
    (dy,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), dy.numpy()


def first_entry(rest, temperature, log=False):
    """x -> softmax([x, *rest] / T)[0] (or its log-softmax), row by row: entry 0 of the vector as x varies."""
    def fn(t):
        v = torch.cat([t[:, None], torch.tensor(rest, dtype=t.dtype).expand(len(t), -1)], dim=1)
        return (F.log_softmax if log else F.softmax)(v / temperature, dim=1)[:, 0]
    return fn


@dataclass
class Case:
    """One comparison: the explorer's `name` with `params` against `reference` at the X_POINTS that `where` keeps."""
    id: str
    name: str
    reference: object
    params: dict = field(default_factory=dict)
    where: object = None
    why: str = ""


CASES = [
    Case("identity", "identity", lambda t: t),
    Case("step", "step", lambda t: (t >= 0).to(t.dtype) + 0 * t),   # `+ 0 * t`: derivative 0 by autograd
    Case("sigmoid", "sigmoid", torch.sigmoid),
    Case("tanh", "tanh", torch.tanh),
    Case("relu", "relu", F.relu),
    Case("leaky_relu-default", "leaky_relu", lambda t: F.leaky_relu(t, 0.01)),
    Case("leaky_relu-0.2", "leaky_relu", lambda t: F.leaky_relu(t, 0.2), {"alpha": 0.2}),
    Case("prelu-default", "prelu", lambda t: F.prelu(t, torch.tensor([0.25], dtype=t.dtype))),
    Case("prelu--0.3", "prelu", lambda t: F.prelu(t, torch.tensor([-0.3], dtype=t.dtype)), {"alpha": -0.3}),
    Case("elu-default", "elu", F.elu),
    Case("elu-0.5", "elu", lambda t: F.elu(t, 0.5), {"alpha": 0.5}),
    Case("elu-2.5", "elu", lambda t: F.elu(t, 2.5), {"alpha": 2.5}),
    Case("selu", "selu", F.selu),
    Case("gelu-torch", "gelu", F.gelu, where=lambda x: x >= -3,
         why="F.gelu computes 1 + erf(x / sqrt 2), which cancels left of -3 (relative error 4e-11 at -5, 1e-10 at -6)"),
    Case("gelu-erfc", "gelu", lambda t: 0.5 * t * torch.special.erfc(-t * SQRT1_2)),
    Case("gelu_tanh-torch", "gelu_tanh", lambda t: F.gelu(t, approximate="tanh"), where=lambda x: x >= -3,
         why="F.gelu(approximate='tanh') computes 1 + tanh(u), which cancels left of -3 (3e-10 at -5)"),
    Case("gelu_tanh-sigmoid", "gelu_tanh",
         lambda t: t * torch.sigmoid(2 * GELU_TANH_K * (t + 0.044715 * t * t * t))),
    Case("silu", "silu", F.silu),
    Case("swish-default-is-silu", "swish", F.silu),
    Case("swish-0.5", "swish", lambda t: t * torch.sigmoid(0.5 * t), {"beta": 0.5}),
    Case("swish-3", "swish", lambda t: t * torch.sigmoid(3 * t), {"beta": 3.0}),
    Case("softplus-torch", "softplus", F.softplus, where=lambda x: x <= 20,
         why="F.softplus returns x itself above its threshold beta x > 20, off by up to 2e-9"),
    Case("softplus-logaddexp", "softplus", lambda t: torch.logaddexp(torch.zeros_like(t), t)),
    Case("softplus-0.5", "softplus", lambda t: F.softplus(t, beta=0.5), {"beta": 0.5}, where=lambda x: 0.5 * x <= 20),
    Case("softplus-3-logaddexp", "softplus", lambda t: torch.logaddexp(torch.zeros_like(t), 3 * t) / 3, {"beta": 3.0}),
    *[Case(f"{name}-T{T}", name, first_entry([1.0, 0.1], T, log=(name == "log_softmax")),
           {"temperature": T, "vector": [2.0, 1.0, 0.1]})
      for name in ("softmax", "log_softmax") for T in (1.0, 0.5, 3.0)],
    Case("softmax-default-params", "softmax", first_entry([1.0, 0.1], 1.0)),
    Case("log_softmax-4-entries", "log_softmax", first_entry([-3.0, 7.5, 0.0], 2.0, log=True),
         {"temperature": 2.0, "vector": [0.0, -3.0, 7.5, 0.0]}),
]


def case_points(case):
    return [x for x in X_POINTS if case.where is None or case.where(x)]


# ---------------------------------------------------------------------------------------------------------
# The formulas against PyTorch
# ---------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def js_cases():
    """The explorer's f and f' for every case, from one Node run: {case id: (f, f')}."""
    if NODE is None:
        pytest.skip("`node` is not on PATH")
    answers = run_js([{"kind": "elementwise", "name": c.name, "xs": case_points(c), "params": c.params}
                      for c in CASES])
    return {c.id: (np.array(a["f"]), np.array(a["df"])) for c, a in zip(CASES, answers)}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_explorer_value_and_slope_match_torch_in_float64(case, js_cases):
    xs = case_points(case)
    value, slope = torch_value_and_slope(case.reference, xs)
    js_value, js_slope = js_cases[case.id]
    assert_matches(js_value, value, **VALUE_TOL, what=f"{case.id}: f", xs=xs)
    assert_matches(js_slope, slope, **SLOPE_TOL, what=f"{case.id}: f'", xs=xs)


def test_every_activation_of_the_course_is_compared_with_torch(js_cases):
    names = run_js([{"kind": "value", "expr": "AE.formulas.names"}])[0]
    assert set(names) == {"identity", "step", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu", "selu", "gelu",
                          "gelu_tanh", "silu", "swish", "softplus", "softmax", "log_softmax"}
    assert set(names) <= {c.name for c in CASES}


def test_explorer_defaults_are_the_exercise_defaults():
    defaults = run_js([{"kind": "value", "expr": "Object.fromEntries(AE.formulas.names.map(n => [n, AE.formulas.defaults(n)]))"}])[0]
    assert defaults["leaky_relu"] == {"alpha": 0.01}
    assert defaults["elu"] == {"alpha": 1}
    assert defaults["swish"] == {"beta": 1} and defaults["softplus"] == {"beta": 1}
    assert defaults["softmax"]["temperature"] == 1 and defaults["prelu"] == {"alpha": 0.25}  # PyTorch's initial slope


def test_tails_of_the_stable_formulas_are_accurate_where_torch_autograd_rounds_to_zero():
    xs = [-50.0, 40.0, 50.0]
    _, sigmoid_slope = js_curve("sigmoid", xs)
    assert_matches(sigmoid_slope, [math.exp(-50) / (1 + math.exp(-50)) ** 2, math.exp(-40) / (1 + math.exp(-40)) ** 2,
                                   math.exp(-50) / (1 + math.exp(-50)) ** 2], rtol=1e-13, atol=0, what="sigmoid' tails")
    _, tanh_slope = js_curve("tanh", [20.0])
    assert_matches(tanh_slope, [1 / math.cosh(20.0) ** 2], rtol=1e-13, atol=0, what="tanh' at 20")
    gelu, _ = js_curve("gelu", [-8.0, -20.0])
    assert_matches(gelu, [-8 * 0.5 * math.erfc(8 * SQRT1_2), -20 * 0.5 * math.erfc(20 * SQRT1_2)],
                   rtol=1e-13, atol=0, what="GELU's left tail (no 1 + erf cancellation)")


@needs_node
def test_erf_and_erfc_are_accurate_to_a_few_ulp():
    xs = [0.0, 1e-300, 1e-9, 0.1, 0.3, 0.84, 0.85, 1.0, 1.2, 1.3, 2.0, 2.85, 2.86, 3.5, 5.0, 5.9, 6.1, 10.0, 26.0, 27.5,
          30.0]
    xs = xs + [-x for x in xs[1:]]
    (answer,) = run_js([{"kind": "erf", "xs": xs}])
    assert_matches(answer["erf"], [math.erf(x) for x in xs], rtol=4e-16, atol=1e-300, what="erf", xs=xs)
    assert_matches(answer["erfc"], [math.erfc(x) for x in xs], rtol=4e-15, atol=1e-300, what="erfc", xs=xs)


VECTORS = [[2.0, 1.0, 0.1], [800.0, -800.0, 0.0], [1e4, 1e4 - 1, -1e4], [0.0, 0.0, 0.0, 0.0], [-50.0, 50.0, 3.5]]
TEMPERATURES = [1.0, 0.1, 0.5, 3.0, 10.0]


@needs_node
def test_softmax_and_log_softmax_of_a_vector_with_temperature_match_torch():
    pairs = [(v, T) for v in VECTORS for T in TEMPERATURES]
    answers = run_js([{"kind": "vector", "vector": v, "temperature": T} for v, T in pairs])
    for (v, T), answer in zip(pairs, answers):
        t = torch.tensor(v, dtype=torch.float64) / T
        assert_matches(answer["softmax"], F.softmax(t, dim=0).numpy(), **VALUE_TOL, what=f"softmax({v} / {T})")
        assert_matches(answer["log_softmax"], F.log_softmax(t, dim=0).numpy(), **VALUE_TOL,
                       what=f"log_softmax({v} / {T})")


# The comparison is only worth something if a wrong formula fails it: each of these mistakes must be caught.
WRONG_FORMULAS = {
    "sigmoid without the stable branch (exp overflows at 800)":
        ("sigmoid", "AE.formulas.registry.sigmoid.f = (x) => Math.exp(x) / (1 + Math.exp(x));"),
    "GELU with Abramowitz-Stegun's 1.5e-7 erf":
        ("gelu-erfc", """
         const erfAS = (x) => { const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
           return s * (1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
                  * Math.exp(-a * a)); };
         AE.formulas.registry.gelu.f = (x) => 0.5 * x * (1 + erfAS(x * Math.SQRT1_2));"""),
    "softmax's slope s(1 - s) without the 1/T":
        ("softmax-T3.0", """
         const f = AE.formulas.registry.softmax.f;
         AE.formulas.registry.softmax.df = (x, p) => { const s = f(x, p); return s * (1 - s); };"""),
    "ELU's slope with alpha left out":
        ("elu-2.5", "AE.formulas.registry.elu.df = (x) => (x > 0 ? 1 : Math.exp(x));"),
}


@needs_node
@pytest.mark.parametrize("mistake", WRONG_FORMULAS)
def test_a_deliberately_wrong_formula_fails_the_same_comparison(mistake):
    case_id, patch = WRONG_FORMULAS[mistake]
    case = next(c for c in CASES if c.id == case_id)
    xs = case_points(case)
    js_value, js_slope = js_curve(case.name, xs, case.params, patch=patch)
    value, slope = torch_value_and_slope(case.reference, xs)
    with pytest.raises(AssertionError, match="values differ"):
        assert_matches(js_value, value, **VALUE_TOL, what="f", xs=xs)
        assert_matches(js_slope, slope, **SLOPE_TOL, what="f'", xs=xs)


@needs_node
def test_softmax_without_temperature_fails_the_vector_comparison():
    patch = "const right = AE.formulas.softmax; AE.formulas.softmax = (v, T) => right(v, 1);"
    (answer,) = run_js([{"kind": "vector", "vector": [2.0, 1.0, 0.1], "temperature": 3.0, "patch": patch}])
    expected = F.softmax(torch.tensor([2.0, 1.0, 0.1], dtype=torch.float64) / 3.0, dim=0).numpy()
    with pytest.raises(AssertionError, match="values differ"):
        assert_matches(answer["softmax"], expected, **VALUE_TOL, what="softmax")


# ---------------------------------------------------------------------------------------------------------
# Products of local gradients through depth
# ---------------------------------------------------------------------------------------------------------
def torch_slope(case_id):
    case = next(c for c in CASES if c.id == case_id)
    return lambda z: torch_value_and_slope(case.reference, z.ravel().tolist())[1].reshape(z.shape)


@needs_node
@pytest.mark.parametrize(("case_id", "distribution", "sigma"),
                         [("sigmoid", "normal", 1.0), ("tanh", "uniform", 2.0), ("relu", "normal", 1.0),
                          ("gelu-erfc", "normal", 0.5), ("elu-0.5", "uniform", 1.5)])
def test_products_through_depth_match_numpy_quantiles_of_torch_slopes(case_id, distribution, sigma):
    """The explorer's median and 10-90% band equal numpy's quantiles of torch's f' products on the same z."""
    case = next(c for c in CASES if c.id == case_id)
    n, depth, seed = 4000, 12, 7
    options = {"depth": depth, "distribution": distribution, "sigma": sigma, "samples": n, "seed": seed}
    z, products = run_js([{"kind": "draw", "n": n, "depth": depth, "distribution": distribution, "sigma": sigma,
                           "seed": seed},
                          {"kind": "products", "name": case.name, "params": case.params, "options": options}])
    z = np.array(z).reshape(n, depth)
    path_products = np.abs(np.cumprod(torch_slope(case_id)(z), axis=1))       # (path, depth)
    for key, q in [("median", 0.5), ("low", 0.1), ("high", 0.9)]:
        assert_matches(products[key], np.quantile(path_products, q, axis=0), rtol=1e-10, atol=1e-300,
                       what=f"{case_id} {key}")
    assert_matches(products["zeroFraction"], (path_products == 0).mean(axis=0), rtol=0, atol=0, what="zero fraction")


@needs_node
def test_preactivations_are_reproducible_and_have_the_chosen_spread():
    draw = {"kind": "draw", "n": 4000, "depth": 5, "distribution": "normal", "sigma": 2.0, "seed": 3}
    first, again, other, uniform = run_js([draw, draw, {**draw, "seed": 4}, {**draw, "distribution": "uniform"}])
    assert first == again and first != other
    normal = np.array(first)
    assert abs(normal.mean()) < 0.05 and abs(normal.std() - 2.0) < 0.03
    assert abs(np.mean(np.abs(normal) < 2.0) - 0.6827) < 0.01                   # one sigma holds 68%
    uniform = np.array(uniform)
    assert np.abs(uniform).max() <= 2.0 * math.sqrt(3) and abs(uniform.std() - 2.0) < 0.03


@needs_node
def test_products_fall_as_the_activations_say():
    options = {"depth": 20, "distribution": "normal", "sigma": 1.0, "seed": 1}
    sigmoid, relu, identity, leaky, tanh_narrow = run_js([
        {"kind": "products", "name": "sigmoid", "params": {}, "options": options},
        {"kind": "products", "name": "relu", "params": {}, "options": options},
        {"kind": "products", "name": "identity", "params": {}, "options": options},
        {"kind": "products", "name": "leaky_relu", "params": {"alpha": 0.2}, "options": options},
        {"kind": "products", "name": "tanh", "params": {}, "options": {**options, "sigma": 0.1}},
    ])
    depths = np.arange(1, 21)
    assert np.all(np.array(sigmoid["high"]) <= 0.25 ** depths)             # sigmoid' <= 1/4 on every path
    assert sigmoid["median"][-1] < 1e-13
    assert set(relu["median"] + relu["low"] + relu["high"]) <= {0.0, 1.0}   # ReLU passes all or nothing
    assert np.allclose(relu["zeroFraction"], 1 - 0.5 ** depths, atol=0.02)
    assert identity["median"] == [1.0] * 20 and identity["zeroFraction"] == [0.0] * 20
    assert leaky["zeroFraction"] == [0.0] * 20 and leaky["low"][-1] >= 0.2 ** 20
    assert tanh_narrow["median"][-1] > 0.7


# ---------------------------------------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------------------------------------
RAW_BLOCK = re.compile(r"```\{raw\} html\n(.*?)```", re.S)


def explorer_block(page: Path) -> str:
    blocks = [b for b in RAW_BLOCK.findall(page.read_text()) if "activation-explorer" in b]
    assert len(blocks) == 1, f"{page.name}: expected one raw-HTML block holding the explorer, found {len(blocks)}"
    return blocks[0]


def test_explorer_page_embeds_the_static_files_relative_to_the_built_page():
    block = explorer_block(BOOK / "explorer.md")
    assert '<link rel="stylesheet" href="../_static/explorer.css">' in block
    assert '<script src="../_static/explorer.js"></script>' in block
    assert 'class="activation-explorer"' in block


def test_chapter_five_embeds_the_same_explorer_block():
    text = (BOOK / "activations.md").read_text()
    if "activation-explorer" not in text:
        pytest.skip("the activations chapter does not embed the explorer")
    assert explorer_block(BOOK / "activations.md") == explorer_block(BOOK / "explorer.md")


def test_page_and_code_define_saturation_with_the_same_threshold():
    slope = float(re.search(r"const SATURATION_SLOPE = ([0-9.]+);", EXPLORER_JS.read_text()).group(1))
    text = (BOOK / "explorer.md").read_text()
    assert f"|f'(x)| < {slope:g}" in text, "the page must state the saturation threshold the code uses"
    assert not re.findall(r"\|f'\(x\)\| < (?!%s\b)[0-9.]+" % re.escape(f"{slope:g}"), text)


def test_explorer_loads_nothing_from_the_network():
    js, css = EXPLORER_JS.read_text(), EXPLORER_CSS.read_text()
    assert re.findall(r"https?://[^\s\"']+", js) == ["http://www.w3.org/2000/svg"]   # a namespace, never fetched
    assert not re.search(r"https?://|@import|url\((?!#)", css)
    assert not re.search(r"\bfetch\(|XMLHttpRequest|import\(|WebSocket|\beval\(", js)


def write_harness(tmp_path: Path) -> Path:
    """book/explorer.html beside a copy of _static/, holding explorer.md's raw block verbatim, so the relative
    paths are the built book's."""
    (tmp_path / "_static").mkdir()
    (tmp_path / "book").mkdir()
    shutil.copy(EXPLORER_JS, tmp_path / "_static")
    shutil.copy(EXPLORER_CSS, tmp_path / "_static")
    page = tmp_path / "book" / "explorer.html"
    page.write_text("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>explorer harness</title>"
                    "<style>body { margin: 0 auto; padding: 0 1rem; max-width: 60rem; font-family: sans-serif; }</style>"
                    f"</head><body><main><h1>Activation explorer</h1>\n{explorer_block(BOOK / 'explorer.md')}</main>"
                    "</body></html>\n")
    return page


def readout(page, key) -> float | list:
    return json.loads(page.get_attribute(f"[data-readout={key}]", "data-value"))


def press(page, control, key, times=1):
    page.focus(f"[data-control={control}]")
    for _ in range(times):
        page.keyboard.press(key)


def check_fits(page, width):
    scroll, viewport = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= viewport, f"at {width} px the page scrolls sideways: {scroll} > {viewport}"


def check_narrow_layout(page, width):
    """At phone width: every activation's controls, formula and figures fit, with the keyboard still working."""
    for name in page.eval_on_selector_all("[data-control=activation] option", "(options) => options.map((o) => o.value)"):
        page.select_option("[data-control=activation]", name)
        check_fits(page, width)
    press(page, "depth", "End")
    press(page, "temperature", "End")
    assert page.input_value("[data-control=depth]") == "50"
    assert len(readout(page, "vector")) == 3
    check_fits(page, width)


def check_explorer(page, width):
    """Drive every slider with the keyboard and read back what the explorer computed."""
    # Every control is a native element with a label; the read-outs are announced.
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('.activation-explorer input, .activation-explorer select')]
        .filter((c) => c.labels.length === 0).map((c) => c.id)""")
    assert unlabelled == []
    assert page.get_attribute(".ae-readouts", "aria-live") == "polite"
    assert page.get_attribute("[data-curve=f]", "d").startswith("M")

    # The default: the sigmoid at x0 = -1, depth 10.
    assert page.input_value("[data-control=activation]") == "sigmoid"
    assert readout(page, "fx0") == pytest.approx(1 / (1 + math.e), rel=1e-12)
    assert readout(page, "dfx0") == pytest.approx(math.e / (1 + math.e) ** 2, rel=1e-12)
    median_at_10 = readout(page, "median")
    press(page, "depth", "ArrowRight", 10)
    assert page.input_value("[data-control=depth]") == "20"
    median_at_20 = readout(page, "median")
    assert median_at_20 < median_at_10 * 1e-4 and median_at_20 < 0.25 ** 20
    assert "20" in page.text_content("[data-readout=median]")
    assert len(json.loads(page.get_attribute("[data-curve=median]", "data-values"))) == 20
    saturated = readout(page, "saturated")                 # sigmoid' < 0.05 beyond |x| = 2.9
    assert len(saturated) == 2 and saturated[0][0] == -6 and saturated[1][1] == 6
    assert -3.1 < saturated[0][1] < -2.8 and 2.8 < saturated[1][0] < 3.1

    # ReLU at the same depth: every path passes all or nothing.
    page.select_option("[data-control=activation]", "relu")
    assert readout(page, "median") == 0
    assert readout(page, "zeros") == pytest.approx(1 - 0.5 ** 20, abs=0.01)
    assert readout(page, "saturated") == [[-6, 0]]

    # Leaky ReLU: alpha from 0.01 to 0.2 with the arrow key gives f(-1) = -0.2 and no saturated region.
    page.select_option("[data-control=activation]", "leaky_relu")
    assert page.is_visible("[data-control=leakyAlpha]") and not page.is_visible("[data-control=temperature]")
    assert readout(page, "fx0") == pytest.approx(-0.01, rel=1e-12)
    press(page, "leakyAlpha", "ArrowRight", 19)
    assert page.input_value("[data-control=leakyAlpha]") == "0.2"
    assert readout(page, "fx0") == pytest.approx(-0.2, rel=1e-12)
    assert readout(page, "dfx0") == pytest.approx(0.2, rel=1e-12)
    assert readout(page, "saturated") == [] and readout(page, "zeros") == 0

    # The other sliders, each checked against its formula at x0 = -1.
    for name, control, key, times, expected_f in [
        ("prelu", "preluAlpha", "End", 1, -1.0),                                      # alpha = 1: the identity
        ("elu", "eluAlpha", "ArrowLeft", 5, 0.5 * math.expm1(-1)),                    # alpha 1 -> 0.5
        ("swish", "swishBeta", "Home", 1, -0.5),                                      # beta = 0: x / 2
        ("softplus", "softplusBeta", "ArrowRight", 10, math.log1p(math.exp(-2)) / 2),  # beta 1 -> 2
    ]:
        page.select_option("[data-control=activation]", name)
        press(page, control, key, times)
        assert readout(page, "fx0") == pytest.approx(expected_f, rel=1e-12), (name, control)

    # The point x0: End moves it to 6.
    press(page, "x0", "End")
    assert readout(page, "fx0") == pytest.approx(math.log1p(math.exp(12)) / 2, rel=1e-12)
    press(page, "x0", "Home")

    # Softmax: raising the temperature flattens the bars.
    page.select_option("[data-control=activation]", "softmax")
    assert page.is_visible("[data-figure=bars]") and page.is_visible("[data-control=temperature]")
    cold = readout(page, "vector")
    assert cold == pytest.approx(F.softmax(torch.tensor([2.0, 1.0, 0.1], dtype=torch.float64), 0).tolist(), rel=1e-12)
    press(page, "temperature", "ArrowRight", 20)                                        # T = 3
    warm = readout(page, "vector")
    assert max(warm) < max(cold) and min(warm) > min(cold)
    press(page, "temperature", "End")                                                  # T = 10
    hot = readout(page, "vector")
    assert max(hot) < max(warm) and min(hot) > min(warm) and max(hot) - min(hot) < 0.1
    bars = page.eval_on_selector_all(".ae-bar", "(bars) => bars.map((b) => Number(b.dataset.value))")
    assert bars == hot
    page.fill("[data-control=vector]", "1, 2, 3, 4")
    four = readout(page, "vector")
    assert len(four) == 4 and sum(four) == pytest.approx(1, abs=1e-15) and four == sorted(four)
    page.fill("[data-control=vector]", "1, oops")
    assert page.get_attribute("[data-control=vector]", "aria-invalid") == "true" and readout(page, "vector") == four
    page.select_option("[data-control=activation]", "log_softmax")
    assert readout(page, "vector") == pytest.approx(np.log(four).tolist(), rel=1e-12)

    # Depth down to 1 with Home: the figure still draws; sigma and the distribution change the draw.
    page.select_option("[data-control=activation]", "sigmoid")
    press(page, "depth", "Home")
    assert len(json.loads(page.get_attribute("[data-curve=median]", "data-values"))) == 1
    normal = readout(page, "median")
    press(page, "sigma", "End")
    wide = readout(page, "median")
    assert wide < normal
    page.select_option("[data-control=distribution]", "uniform")
    assert readout(page, "median") != wide

    check_fits(page, width)


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is missing: the explorer's browser test needs it")
def test_explorer_works_offline_in_a_browser_with_the_keyboard(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    url = write_harness(tmp_path).as_uri()
    refused, errors = [], []

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            for width in (1400, 390):
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.route("**/*", only_files)
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(url)
                page.wait_for_selector("[data-readout=median][data-value]")
                check_explorer(page, width) if width > 1000 else check_narrow_layout(page, width)
                page.close()
        finally:
            browser.close()
    assert refused == [], f"the explorer asked for {refused}"
    assert errors == []
