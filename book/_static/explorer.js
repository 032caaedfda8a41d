/* Activation explorer: plots of f and f', the saturated region, and the product of local gradients
 * through a stack of layers, for every activation of the course.
 *
 * Plain JavaScript with no library, no build step and no network, so that it works in a book opened
 * from file://. The math is exposed as window.ActivationExplorer.formulas (pure functions of float64
 * numbers), the sampling as window.ActivationExplorer.stats; the tests evaluate both outside a browser.
 * The formulas follow the course's numpy API (COURSE.md, assignment `activations`): same names, same
 * default parameters, the same stable forms.
 */
(function (global) {
  "use strict";

  // ---------------------------------------------------------------------------------------------
  // erf and erfc: a port of fdlibm's s_erf.c (Sun Microsystems, 1993), about 1 ulp. GELU needs them
  // in its tails, where the 1e-7 of the textbook (Abramowitz-Stegun) approximation is not enough.
  // ---------------------------------------------------------------------------------------------
  const ERX = 8.45062911510467529297e-01;
  const EFX = 1.28379167095512586316e-01, EFX8 = 1.02703333676410069053e+00;
  const PP = [1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
    -5.77027029648944159157e-03, -2.37630166566501626084e-05];
  const QQ = [1, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
    1.32494738004321644526e-04, -3.96022827877536812320e-06];
  const PA = [-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
    3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
    -2.16637559486879084300e-03];
  const QA = [1, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
    1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02];
  const RA = [-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
    -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
    -8.12874355063065934246e+01, -9.81432934416914548592e+00];
  const SA = [1, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
    6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
    6.57024977031928170135e+00, -6.04244152148580987438e-02];
  const RB = [-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
    -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
    -4.83519191608651397019e+02];
  const SB = [1, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
    3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
    -2.24409524465858183362e+01];
  // fdlibm compares the high word of |x| with 0x4006DB6E (erf) and 0x4006DB6D (erfc), about 1/0.35.
  const ERF_RB_FROM = 2 * (1 + 0x6DB6E / 1048576), ERFC_RB_FROM = 2 * (1 + 0x6DB6D / 1048576);
  const wordView = new DataView(new ArrayBuffer(8));

  function poly(c, s) {  // c[0] + s*(c[1] + s*(c[2] + ...)), Horner's rule as fdlibm writes it
    let r = c[c.length - 1];
    for (let i = c.length - 2; i >= 0; i--) r = c[i] + s * r;
    return r;
  }

  function withLowWordCleared(x) {  // fdlibm's SET_LOW_WORD(z, 0): z keeps the top 21 bits of the mantissa
    wordView.setFloat64(0, x, true);
    wordView.setUint32(0, 0, true);
    return wordView.getFloat64(0, true);
  }

  function erfcTail(ax, rbFrom) {  // erfc(ax) for 1.25 <= ax < 28: exp(-ax^2 - 0.5625 + R/S) / ax, split for accuracy
    const s = 1 / (ax * ax);
    const ratio = ax < rbFrom ? poly(RA, s) / poly(SA, s) : poly(RB, s) / poly(SB, s);
    const z = withLowWordCleared(ax);
    return Math.exp(-z * z - 0.5625) * Math.exp((z - ax) * (z + ax) + ratio) / ax;
  }

  function erf(x) {
    if (Number.isNaN(x)) return x;
    const ax = Math.abs(x);
    if (ax < 0.84375) {
      if (ax < 2 ** -28) return ax < 2 ** -1015 ? 0.125 * (8 * x + EFX8 * x) : x + EFX * x;
      const z = x * x;
      return x + x * (poly(PP, z) / poly(QQ, z));
    }
    if (ax < 1.25) {
      const s = ax - 1, pq = poly(PA, s) / poly(QA, s);
      return x >= 0 ? ERX + pq : -ERX - pq;
    }
    if (ax >= 6) return x >= 0 ? 1 : -1;
    const r = erfcTail(ax, ERF_RB_FROM);
    return x >= 0 ? 1 - r : r - 1;
  }

  function erfc(x) {
    if (Number.isNaN(x)) return x;
    const ax = Math.abs(x);
    if (ax < 0.84375) {
      if (ax < 2 ** -56) return 1 - x;
      const z = x * x, y = poly(PP, z) / poly(QQ, z);
      return x < 0.25 ? 1 - (x + x * y) : 0.5 - (x * y + (x - 0.5));
    }
    if (ax < 1.25) {
      const s = ax - 1, pq = poly(PA, s) / poly(QA, s);
      return x >= 0 ? (1 - ERX) - pq : 1 + (ERX + pq);
    }
    if (ax < 28) {
      if (x < -6) return 2;
      const r = erfcTail(ax, ERFC_RB_FROM);
      return x > 0 ? r : 2 - r;
    }
    return x > 0 ? 0 : 2;
  }

  // ---------------------------------------------------------------------------------------------
  // The activations: for each, f and f' as functions of one number and a parameter object.
  // ---------------------------------------------------------------------------------------------
  /** |f'(x)| below this counts as saturated: the page's text uses the same number. */
  const SATURATION_SLOPE = 0.05;
  const SELU_ALPHA = 1.6732632423543772848170429916717;
  const SELU_SCALE = 1.0507009873554804934193349852946;
  const GELU_TANH_K = Math.sqrt(2 / Math.PI), GELU_TANH_C = 0.044715;
  const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

  function sigmoid(x) {  // never exponentiates a positive number
    if (x >= 0) return 1 / (1 + Math.exp(-x));
    const e = Math.exp(x);
    return e / (1 + e);
  }

  function sigmoidSlope(x) {  // s(x) s(-x): no 1 - s(x) cancellation in the tails
    return sigmoid(x) * sigmoid(-x);
  }

  function normalCdf(x) {  // Phi(x) through erfc, accurate in the left tail where 1 + erf(x) cancels
    return 0.5 * erfc(-x * Math.SQRT1_2);
  }

  function geluTanhInner(x) {  // 2u, with 0.5 (1 + tanh u) = sigmoid(2u)
    return 2 * GELU_TANH_K * (x + GELU_TANH_C * x * x * x);
  }

  function softmaxVector(vector, temperature) {
    const z = vector.map((v) => v / temperature);
    const m = Math.max(...z);
    const e = z.map((zi) => Math.exp(zi - m));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map((ei) => ei / total);
  }

  function logSoftmaxVector(vector, temperature) {  // z - m - log(sum exp(z - m)): never log of a softmax
    const z = vector.map((v) => v / temperature);
    const m = Math.max(...z);
    const logTotal = Math.log(z.reduce((a, zi) => a + Math.exp(zi - m), 0));
    return z.map((zi) => zi - m - logTotal);
  }

  // Softmax is not elementwise; its curves show entry 0 as a function of x = v_0, the other entries
  // fixed: f(x) = s_0 and f'(x) = ds_0/dv_0 = s_0 (1 - s_0) / T, the diagonal entry of its Jacobian.
  function withFirst(vector, x) {
    return [x].concat(vector.slice(1));
  }

  function restMass(s) {  // 1 - s_0 as the sum of the others: no cancellation when s_0 is near 1
    return s.slice(1).reduce((a, b) => a + b, 0);
  }

  const DEFAULT_VECTOR = [2, 1, 0.1];

  const ACTIVATIONS = {
    identity: { label: "identity", formula: "f(x) = x;  f′(x) = 1",
      f: (x) => x, df: () => 1 },
    step: { label: "step", formula: "f(x) = 1 if x ≥ 0 else 0;  f′(x) = 0 (undefined at 0)",
      f: (x) => (x >= 0 ? 1 : 0), df: () => 0 },
    sigmoid: { label: "sigmoid", formula: "f(x) = 1 / (1 + e^(−x));  f′(x) = f(x) (1 − f(x))",
      f: sigmoid, df: sigmoidSlope },
    tanh: { label: "tanh", formula: "f(x) = tanh x;  f′(x) = 1 − tanh² x = 1 / cosh² x",
      f: Math.tanh, df: (x) => { const c = Math.cosh(x); return 1 / (c * c); } },
    relu: { label: "ReLU", formula: "f(x) = max(x, 0);  f′(x) = 1 if x > 0 else 0",
      f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) },
    leaky_relu: { label: "Leaky ReLU", formula: "f(x) = x if x > 0 else αx;  f′(x) = 1 if x > 0 else α",
      defaults: { alpha: 0.01 },
      f: (x, p) => (x > 0 ? x : p.alpha * x), df: (x, p) => (x > 0 ? 1 : p.alpha) },
    prelu: { label: "PReLU", formula: "f(x) = x if x > 0 else αx, α learned;  f′(x) = 1 if x > 0 else α",
      defaults: { alpha: 0.25 },
      f: (x, p) => (x > 0 ? x : p.alpha * x), df: (x, p) => (x > 0 ? 1 : p.alpha) },
    elu: { label: "ELU", formula: "f(x) = x if x > 0 else α (eˣ − 1);  f′(x) = 1 if x > 0 else α eˣ",
      defaults: { alpha: 1 },
      f: (x, p) => (x > 0 ? x : p.alpha * Math.expm1(x)), df: (x, p) => (x > 0 ? 1 : p.alpha * Math.exp(x)) },
    selu: { label: "SELU", formula: "f(x) = λx if x > 0 else λα (eˣ − 1), λ ≈ 1.0507, α ≈ 1.6733",
      f: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
      df: (x) => (x > 0 ? SELU_SCALE : SELU_SCALE * SELU_ALPHA * Math.exp(x)) },
    gelu: { label: "GELU (exact)", formula: "f(x) = x Φ(x), Φ(x) = ½ erfc(−x/√2);  f′(x) = Φ(x) + x φ(x)",
      f: (x) => x * normalCdf(x),
      df: (x) => normalCdf(x) + x * Math.exp(-0.5 * x * x) * INV_SQRT_2PI },
    gelu_tanh: { label: "GELU (tanh approximation)",
      formula: "f(x) = ½ x (1 + tanh(√(2/π) (x + 0.044715 x³)))",
      f: (x) => x * sigmoid(geluTanhInner(x)),
      df: (x) => {
        const v = geluTanhInner(x);
        return sigmoid(v) + x * sigmoidSlope(v) * 2 * GELU_TANH_K * (1 + 3 * GELU_TANH_C * x * x);
      } },
    silu: { label: "SiLU", formula: "f(x) = x σ(x);  f′(x) = σ(x) (1 + x σ(−x))",
      f: (x) => x * sigmoid(x), df: (x) => sigmoid(x) + x * sigmoidSlope(x) },
    swish: { label: "Swish", formula: "f(x) = x σ(βx);  f′(x) = σ(βx) + βx σ(βx) σ(−βx)",
      defaults: { beta: 1 },
      f: (x, p) => x * sigmoid(p.beta * x), df: (x, p) => sigmoid(p.beta * x) + p.beta * x * sigmoidSlope(p.beta * x) },
    softplus: { label: "softplus", formula: "f(x) = log(1 + e^(βx)) / β;  f′(x) = σ(βx)",
      defaults: { beta: 1 },
      f: (x, p) => { const bx = p.beta * x; return (Math.max(bx, 0) + Math.log1p(Math.exp(-Math.abs(bx)))) / p.beta; },
      df: (x, p) => sigmoid(p.beta * x) },
    softmax: { label: "softmax", vector: true,
      formula: "s = softmax(v / T); curves: s₀ as v₀ = x varies;  ∂s₀/∂v₀ = s₀ (1 − s₀) / T",
      defaults: { temperature: 1, vector: DEFAULT_VECTOR },
      f: (x, p) => softmaxVector(withFirst(p.vector, x), p.temperature)[0],
      df: (x, p) => { const s = softmaxVector(withFirst(p.vector, x), p.temperature); return s[0] * restMass(s) / p.temperature; } },
    log_softmax: { label: "log-softmax", vector: true,
      formula: "log s = v/T − log Σ e^(v/T); curves: log s₀ as v₀ = x varies;  ∂ log s₀/∂v₀ = (1 − s₀) / T",
      defaults: { temperature: 1, vector: DEFAULT_VECTOR },
      f: (x, p) => logSoftmaxVector(withFirst(p.vector, x), p.temperature)[0],
      df: (x, p) => restMass(softmaxVector(withFirst(p.vector, x), p.temperature)) / p.temperature },
  };

  function paramsFor(name, params) {
    const entry = ACTIVATIONS[name];
    if (!entry) throw new Error("unknown activation: " + name);
    return Object.assign({}, entry.defaults || {}, params || {});
  }

  const formulas = {
    names: Object.keys(ACTIVATIONS),
    registry: ACTIVATIONS,
    SATURATION_SLOPE: SATURATION_SLOPE,
    erf: erf,
    erfc: erfc,
    defaults: (name) => paramsFor(name, {}),
    label: (name) => ACTIVATIONS[name].label,
    f: (name, x, params) => ACTIVATIONS[name].f(x, paramsFor(name, params)),
    df: (name, x, params) => ACTIVATIONS[name].df(x, paramsFor(name, params)),
    softmax: (vector, temperature) => softmaxVector(vector, temperature === undefined ? 1 : temperature),
    logSoftmax: (vector, temperature) => logSoftmaxVector(vector, temperature === undefined ? 1 : temperature),
    isSaturated: (name, x, params) => Math.abs(formulas.df(name, x, params)) < SATURATION_SLOPE,
  };

  // ---------------------------------------------------------------------------------------------
  // Products of local gradients through depth, from a seeded generator so that runs are reproducible.
  // ---------------------------------------------------------------------------------------------
  function mulberry32(seed) {  // a small 32-bit generator; two draws make one 53-bit uniform in [0, 1)
    let a = seed >>> 0;
    const next = () => {
      a = (a + 0x6D2B79F5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (t ^ (t >>> 14)) >>> 0;
    };
    return () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  }

  /** n * depth pre-activations, sample-major (sample i's layers are entries i*depth .. i*depth+depth-1).
   *  distribution "normal": N(0, sigma^2) by Box-Muller; "uniform": U(-sigma sqrt 3, sigma sqrt 3), same variance. */
  function drawPreactivations(n, depth, distribution, sigma, seed) {
    const uniform = mulberry32(seed), z = new Float64Array(n * depth);
    for (let i = 0; i < z.length; i++) {
      if (distribution === "uniform") {
        z[i] = sigma * Math.sqrt(3) * (2 * uniform() - 1);
      } else {
        const u1 = 1 - uniform(), u2 = uniform();
        z[i] = sigma * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
      }
    }
    return z;
  }

  function quantile(sorted, q) {  // linear interpolation between order statistics, as numpy's default
    const position = q * (sorted.length - 1), below = Math.floor(position);
    const above = Math.min(below + 1, sorted.length - 1);
    return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
  }

  const BAND = [0.1, 0.9];

  /** For depth l = 1..depth: median and 10%/90% quantiles of |f'(z_1) ... f'(z_l)| over `samples` paths,
   *  and the fraction of paths whose product is exactly 0. */
  function gradientProducts(name, params, options) {
    const o = Object.assign({ depth: 10, distribution: "normal", sigma: 1, samples: 4000, seed: 1 }, options || {});
    const p = paramsFor(name, params), df = ACTIVATIONS[name].df;
    const z = drawPreactivations(o.samples, o.depth, o.distribution, o.sigma, o.seed);
    const byDepth = Array.from({ length: o.depth }, () => new Float64Array(o.samples));
    for (let i = 0; i < o.samples; i++) {
      let product = 1;
      for (let l = 0; l < o.depth; l++) {
        product *= df(z[i * o.depth + l], p);
        byDepth[l][i] = Math.abs(product);
      }
    }
    const result = { depth: o.depth, band: BAND.slice(), median: [], low: [], high: [], zeroFraction: [] };
    for (const values of byDepth) {
      values.sort();
      result.median.push(quantile(values, 0.5));
      result.low.push(quantile(values, BAND[0]));
      result.high.push(quantile(values, BAND[1]));
      let zeros = 0;
      while (zeros < values.length && values[zeros] === 0) zeros++;
      result.zeroFraction.push(zeros / values.length);
    }
    return result;
  }

  const stats = { mulberry32: mulberry32, drawPreactivations: drawPreactivations, quantile: quantile,
    gradientProducts: gradientProducts };

  // ---------------------------------------------------------------------------------------------
  // The page: controls, three SVG figures and text read-outs. Nothing below runs without a document.
  // ---------------------------------------------------------------------------------------------
  const SVG_NS = "http://www.w3.org/2000/svg";
  const X_RANGE = [-6, 6];
  const GRID_POINTS = 601;
  let instances = 0;

  function fmt(v) {
    if (!Number.isFinite(v)) return String(v);
    if (v === 0) return "0";
    const a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3);
  }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    for (const child of children || []) node.appendChild(child);
    return node;
  }

  function svgEl(tag, attrs) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") node.textContent = v; else node.setAttribute(k, v);
    }
    return node;
  }

  // Each control: [key, label, attributes, which activations show it (null: all)].
  const SLIDERS = [
    ["x0", "point x₀ for the read-out", { min: -6, max: 6, step: 0.1, value: -1 }, null],
    ["leakyAlpha", "Leaky ReLU slope α", { min: 0, max: 0.5, step: 0.01, value: 0.01 }, ["leaky_relu"]],
    ["preluAlpha", "PReLU slope α", { min: -0.5, max: 1, step: 0.05, value: 0.25 }, ["prelu"]],
    ["eluAlpha", "ELU α", { min: 0.1, max: 3, step: 0.1, value: 1 }, ["elu"]],
    ["swishBeta", "Swish β", { min: 0, max: 5, step: 0.1, value: 1 }, ["swish"]],
    ["softplusBeta", "softplus β", { min: 0.1, max: 10, step: 0.1, value: 1 }, ["softplus"]],
    ["temperature", "softmax temperature T", { min: 0.1, max: 10, step: 0.1, value: 1 }, ["softmax", "log_softmax"]],
    ["depth", "depth L (layers)", { min: 1, max: 50, step: 1, value: 10 }, null],
    ["sigma", "standard deviation σ of z", { min: 0.1, max: 5, step: 0.1, value: 1 }, null],
  ];

  function paramsFromState(name, s) {
    switch (name) {
      case "leaky_relu": return { alpha: s.leakyAlpha };
      case "prelu": return { alpha: s.preluAlpha };
      case "elu": return { alpha: s.eluAlpha };
      case "swish": return { beta: s.swishBeta };
      case "softplus": return { beta: s.softplusBeta };
      case "softmax": case "log_softmax": return { temperature: s.temperature, vector: s.vector };
      default: return {};
    }
  }

  function parseVector(text) {
    const parts = text.split(/[\s,;]+/).filter((t) => t.length > 0).map(Number);
    return parts.length >= 2 && parts.length <= 8 && parts.every(Number.isFinite) && parts.every((v) => Math.abs(v) <= 1e4)
      ? parts : null;
  }

  function buildControls(ui, prefix, initial) {
    const form = el("form", { class: "ae-controls", "aria-label": "Explorer settings" });
    form.addEventListener("submit", (event) => event.preventDefault());
    const row = (key, labelText, input, showFor) => {
      input.id = prefix + key;
      input.dataset.control = key;
      const output = el("output", { for: input.id, class: "ae-value" });
      const wrapper = el("div", { class: "ae-control" }, [el("label", { for: input.id, text: labelText }), input, output]);
      if (showFor) wrapper.dataset.showFor = showFor.join(" ");
      ui.controls[key] = input;
      ui.outputs[key] = output;
      form.appendChild(wrapper);
    };
    const select = el("select", {});
    for (const name of formulas.names) select.appendChild(el("option", { value: name, text: ACTIVATIONS[name].label }));
    select.value = ACTIVATIONS[initial] ? initial : "sigmoid";
    row("activation", "activation", select, null);
    for (const [key, labelText, attrs, showFor] of SLIDERS) {
      row(key, labelText, el("input", Object.assign({ type: "range" }, attrs)), showFor);
    }
    row("vector", "softmax input vector v (2 to 8 numbers)",
      el("input", { type: "text", value: DEFAULT_VECTOR.join(", "), inputmode: "text", spellcheck: "false" }),
      ["softmax", "log_softmax"]);
    const distribution = el("select", {});
    distribution.appendChild(el("option", { value: "normal", text: "normal N(0, σ²)" }));
    distribution.appendChild(el("option", { value: "uniform", text: "uniform, same σ" }));
    row("distribution", "distribution of the pre-activations z", distribution, null);
    row("seed", "random seed", el("input", { type: "number", min: 0, max: 4294967295, step: 1, value: 1 }), null);
    return form;
  }

  function readState(ui) {
    const c = ui.controls, num = (key) => Number(c[key].value);
    const vector = parseVector(c.vector.value);
    c.vector.setAttribute("aria-invalid", vector ? "false" : "true");
    const seed = Math.floor(num("seed"));
    return {
      name: c.activation.value, x0: num("x0"), leakyAlpha: num("leakyAlpha"), preluAlpha: num("preluAlpha"),
      eluAlpha: num("eluAlpha"), swishBeta: num("swishBeta"), softplusBeta: num("softplusBeta"),
      temperature: num("temperature"), vector: vector || ui.lastVector, vectorValid: Boolean(vector),
      depth: Math.round(num("depth")), sigma: num("sigma"), distribution: c.distribution.value,
      seed: Number.isFinite(seed) && seed >= 0 ? seed : 1,
    };
  }

  function frame(svg, box, xr, yr, xTicks, yTicks, xLabel, yLabel) {
    const sx = (x) => box.left + (x - xr[0]) / (xr[1] - xr[0]) * (box.right - box.left);
    const sy = (y) => box.bottom - (y - yr[0]) / (yr[1] - yr[0]) * (box.bottom - box.top);
    const axes = svgEl("g", { class: "ae-axes" });
    axes.appendChild(svgEl("rect", { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top, class: "ae-frame" }));
    for (const [x, text] of xTicks) {
      axes.appendChild(svgEl("line", { x1: sx(x), x2: sx(x), y1: box.top, y2: box.bottom, class: "ae-grid" }));
      axes.appendChild(svgEl("text", { x: sx(x), y: box.bottom + 16, class: "ae-tick", "text-anchor": "middle", text: text }));
    }
    for (const [y, text] of yTicks) {
      axes.appendChild(svgEl("line", { x1: box.left, x2: box.right, y1: sy(y), y2: sy(y), class: "ae-grid" }));
      axes.appendChild(svgEl("text", { x: box.left - 5, y: sy(y) + 4, class: "ae-tick", "text-anchor": "end", text: text }));
    }
    axes.appendChild(svgEl("text", { x: (box.left + box.right) / 2, y: box.bottom + 32, class: "ae-axis-label", "text-anchor": "middle", text: xLabel }));
    axes.appendChild(svgEl("text", { x: 12, y: (box.top + box.bottom) / 2, class: "ae-axis-label", "text-anchor": "middle",
      transform: `rotate(-90 12 ${(box.top + box.bottom) / 2})`, text: yLabel }));
    svg.appendChild(axes);
    return { sx: sx, sy: sy };
  }

  function pathData(xs, ys, sx, sy, yr) {
    let d = "", pen = false;
    for (let i = 0; i < xs.length; i++) {
      if (!Number.isFinite(ys[i])) { pen = false; continue; }
      const y = Math.min(Math.max(ys[i], yr[0] - 1), yr[1] + 1);  // the clip path hides the overshoot
      d += (pen ? "L" : "M") + sx(xs[i]).toFixed(2) + " " + sy(y).toFixed(2);
      pen = true;
    }
    return d;
  }

  function linearTicks(lo, hi, count) {
    const raw = (hi - lo) / count, magnitude = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) ticks.push([t, fmt(Math.round(t / step) * step)]);
    return ticks;
  }

  function saturatedIntervals(xs, slopes) {
    const intervals = [];
    let start = null;
    for (let i = 0; i < xs.length; i++) {
      const saturated = Math.abs(slopes[i]) < SATURATION_SLOPE;
      if (saturated && start === null) start = xs[i];
      if (!saturated && start !== null) { intervals.push([start, xs[i - 1]]); start = null; }
    }
    if (start !== null) intervals.push([start, xs[xs.length - 1]]);
    return intervals;
  }

  function describeIntervals(intervals) {
    if (intervals.length === 0) return `none: |f′(x)| ≥ ${SATURATION_SLOPE} on all of [${X_RANGE[0]}, ${X_RANGE[1]}]`;
    return intervals.map(([a, b]) => {
      if (a <= X_RANGE[0] && b >= X_RANGE[1]) return `all of [${X_RANGE[0]}, ${X_RANGE[1]}]`;
      if (a <= X_RANGE[0]) return `x ≤ ${fmt(b)}`;
      if (b >= X_RANGE[1]) return `x ≥ ${fmt(a)}`;
      return `${fmt(a)} ≤ x ≤ ${fmt(b)}`;
    }).join(" and ");
  }

  function drawFunctionPlot(ui, s, params) {
    const svg = ui.svgs.curves;
    svg.replaceChildren();
    const xs = [], ys = [], dys = [];
    for (let i = 0; i < GRID_POINTS; i++) {
      const x = X_RANGE[0] + (X_RANGE[1] - X_RANGE[0]) * i / (GRID_POINTS - 1);
      xs.push(x); ys.push(formulas.f(s.name, x, params)); dys.push(formulas.df(s.name, x, params));
    }
    const finite = ys.concat(dys).filter(Number.isFinite);
    const yr = [Math.max(-8, Math.min(-1.25, ...finite)), Math.min(8, Math.max(1.25, ...finite))];
    const box = { left: 44, right: 508, top: 10, bottom: 262 };
    const title = svgEl("title", { text: `${ACTIVATIONS[s.name].label}: f and f′ on [−6, 6]` });
    svg.appendChild(title);
    const clipId = ui.prefix + "clip";
    const defs = svgEl("defs");
    const clip = svgEl("clipPath", { id: clipId });
    clip.appendChild(svgEl("rect", { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top }));
    defs.appendChild(clip);
    svg.appendChild(defs);
    const { sx, sy } = frame(svg, box, X_RANGE, yr, linearTicks(X_RANGE[0], X_RANGE[1], 6), linearTicks(yr[0], yr[1], 5), "x", "value");
    const intervals = saturatedIntervals(xs, dys);
    const shade = svgEl("g", { class: "ae-saturated", "data-intervals": JSON.stringify(intervals) });
    const halfStep = (X_RANGE[1] - X_RANGE[0]) / (GRID_POINTS - 1) / 2;
    for (const [a, b] of intervals) {
      const left = Math.max(X_RANGE[0], a - halfStep), right = Math.min(X_RANGE[1], b + halfStep);
      shade.appendChild(svgEl("rect", { x: sx(left), y: box.top, width: sx(right) - sx(left), height: box.bottom - box.top }));
    }
    svg.appendChild(shade);
    const zeroLine = svgEl("g", { class: "ae-zero" });
    if (yr[0] < 0 && yr[1] > 0) zeroLine.appendChild(svgEl("line", { x1: box.left, x2: box.right, y1: sy(0), y2: sy(0) }));
    zeroLine.appendChild(svgEl("line", { x1: sx(0), x2: sx(0), y1: box.top, y2: box.bottom }));
    svg.appendChild(zeroLine);
    const curves = svgEl("g", { "clip-path": `url(#${clipId})` });
    curves.appendChild(svgEl("path", { d: pathData(xs, ys, sx, sy, yr), class: "ae-f", "data-curve": "f" }));
    curves.appendChild(svgEl("path", { d: pathData(xs, dys, sx, sy, yr), class: "ae-df", "data-curve": "df" }));
    const fx0 = formulas.f(s.name, s.x0, params), dfx0 = formulas.df(s.name, s.x0, params);
    if (Number.isFinite(fx0)) curves.appendChild(svgEl("circle", { cx: sx(s.x0), cy: sy(fx0), r: 4, class: "ae-point-f" }));
    if (Number.isFinite(dfx0)) curves.appendChild(svgEl("circle", { cx: sx(s.x0), cy: sy(dfx0), r: 4, class: "ae-point-df" }));
    svg.appendChild(curves);
    const legend = svgEl("g", { class: "ae-legend" });
    legend.appendChild(svgEl("line", { x1: 54, x2: 78, y1: 24, y2: 24, class: "ae-f" }));
    legend.appendChild(svgEl("text", { x: 82, y: 28, text: "f(x)" }));
    legend.appendChild(svgEl("line", { x1: 118, x2: 142, y1: 24, y2: 24, class: "ae-df" }));
    legend.appendChild(svgEl("text", { x: 146, y: 28, text: "f′(x)" }));
    legend.appendChild(svgEl("rect", { x: 190, y: 17, width: 14, height: 12, class: "ae-saturated-key" }));
    legend.appendChild(svgEl("text", { x: 208, y: 28, text: `saturated: |f′| < ${SATURATION_SLOPE}` }));
    svg.appendChild(legend);
    return { fx0: fx0, dfx0: dfx0, intervals: intervals };
  }

  function log10Ticks(lo, hi) {
    const step = Math.max(1, Math.ceil((hi - lo) / 6));
    const ticks = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push([t, t === 0 ? "1" : `1e${t}`]);
    return ticks;
  }

  function drawDepthPlot(ui, s, products) {
    const svg = ui.svgs.depth;
    svg.replaceChildren();
    svg.appendChild(svgEl("title", { text: "median and 10–90% band of |f′(z₁)···f′(z_l)| against depth l, log scale" }));
    const L = products.depth, depths = Array.from({ length: L }, (_, i) => i + 1);
    const positive = products.low.concat(products.median, products.high).filter((v) => v > 0);
    const logs = positive.map(Math.log10);
    const top = Math.max(0.5, Math.ceil(Math.max(...logs, 0) + 0.25));
    const bottom = Math.max(-300, Math.min(top - 2, Math.floor(Math.min(...logs, top - 2) - 0.5)));
    const yr = [bottom, top];
    const xr = L === 1 ? [0.5, 1.5] : [1, L];
    const box = { left: 52, right: 508, top: 10, bottom: 262 };
    const xTicks = linearTicks(xr[0], xr[1], Math.min(L, 8)).filter(([t]) => Number.isInteger(t) && t >= 1);
    const { sx, sy } = frame(svg, box, xr, yr, xTicks, log10Ticks(bottom, top), "depth l", "|product| (log scale)");
    const toLog = (v) => (v > 0 ? Math.max(bottom, Math.log10(v)) : bottom);
    const clip = svgEl("clipPath", { id: ui.prefix + "clip-depth" });
    clip.appendChild(svgEl("rect", { x: box.left, y: box.top, width: box.right - box.left, height: box.bottom - box.top }));
    svg.appendChild(svgEl("defs")).appendChild(clip);
    // One layer has one point: widen it into a short bar so that the band stays visible.
    const bandX = L === 1 ? [0.9, 1.1] : depths, bandAt = (i) => (L === 1 ? 0 : i);
    const upper = bandX.map((d, i) => `${sx(d).toFixed(2)},${sy(toLog(products.high[bandAt(i)])).toFixed(2)}`);
    const lower = bandX.map((d, i) => `${sx(d).toFixed(2)},${sy(toLog(products.low[bandAt(i)])).toFixed(2)}`).reverse();
    svg.appendChild(svgEl("polygon", { points: upper.concat(lower).join(" "), class: "ae-band", "data-curve": "band" }));
    const reference = depths.map((d) => Math.log10(0.25 ** d));
    svg.appendChild(svgEl("path", { d: pathData(depths, reference, sx, sy, yr), class: "ae-reference",
      "clip-path": `url(#${ui.prefix}clip-depth)` }));
    const medianPath = svgEl("path", { d: pathData(depths, products.median.map(toLog), sx, sy, yr), class: "ae-median",
      "data-curve": "median", "data-values": JSON.stringify(products.median) });
    svg.appendChild(medianPath);
    for (const d of depths) {
      svg.appendChild(svgEl("circle", { cx: sx(d), cy: sy(toLog(products.median[d - 1])), r: L > 25 ? 2 : 3, class: "ae-median-point" }));
    }
    if (products.zeroFraction.some((f) => f > 0.1)) {  // a quantile band of exact zeros would otherwise look like a value
      svg.appendChild(svgEl("text", { x: box.left + 6, y: box.bottom - 6, class: "ae-tick",
        text: "exact zeros are drawn on the bottom edge" }));
    }
    const legend = svgEl("g", { class: "ae-legend" });
    legend.appendChild(svgEl("line", { x1: 300, x2: 324, y1: 24, y2: 24, class: "ae-median" }));
    legend.appendChild(svgEl("text", { x: 328, y: 28, text: "median" }));
    legend.appendChild(svgEl("rect", { x: 386, y: 17, width: 14, height: 12, class: "ae-band" }));
    legend.appendChild(svgEl("text", { x: 404, y: 28, text: "10–90%" }));
    legend.appendChild(svgEl("line", { x1: 300, x2: 324, y1: 44, y2: 44, class: "ae-reference" }));
    legend.appendChild(svgEl("text", { x: 328, y: 48, text: "0.25^l (sigmoid's best)" }));
    svg.appendChild(legend);
  }

  function drawBars(ui, s) {
    const svg = ui.svgs.bars;
    svg.replaceChildren();
    const isLog = s.name === "log_softmax";
    const values = isLog ? logSoftmaxVector(s.vector, s.temperature) : softmaxVector(s.vector, s.temperature);
    const atOne = softmaxVector(s.vector, 1);
    svg.appendChild(svgEl("title", { text: `${isLog ? "log-softmax" : "softmax"} of v at temperature ${fmt(s.temperature)}` }));
    const lowest = isLog ? Math.min(-1, ...values.map((v) => Math.max(v, -40))) : 0;
    const yr = isLog ? [lowest * 1.05, 0] : [0, 1];
    const box = { left: 44, right: 508, top: 10, bottom: 160 };
    const { sx, sy } = frame(svg, box, [0, values.length], yr, [], linearTicks(yr[0], yr[1], 4), "entry i of v",
      isLog ? "log sᵢ" : "sᵢ");
    const g = svgEl("g", { class: "ae-bars" });
    values.forEach((v, i) => {
      const shown = Math.max(v, yr[0]);
      const y0 = sy(isLog ? 0 : 0), y1 = sy(shown);
      g.appendChild(svgEl("rect", { x: sx(i + 0.15), width: sx(i + 0.85) - sx(i + 0.15), y: Math.min(y0, y1),
        height: Math.abs(y1 - y0), class: "ae-bar", "data-value": String(v) }));
      if (!isLog) {
        g.appendChild(svgEl("line", { x1: sx(i + 0.1), x2: sx(i + 0.9), y1: sy(atOne[i]), y2: sy(atOne[i]), class: "ae-bar-t1" }));
      }
      g.appendChild(svgEl("text", { x: sx(i + 0.5), y: box.bottom + 16, "text-anchor": "middle", class: "ae-tick",
        text: `v${i} = ${fmt(s.vector[i])}` }));
      g.appendChild(svgEl("text", { x: sx(i + 0.5), y: isLog ? Math.min(y1 + 14, box.bottom - 4) : Math.max(y1 - 4, box.top + 12),
        "text-anchor": "middle", class: "ae-bar-label", text: fmt(v) }));
    });
    svg.appendChild(g);
    return values;
  }

  function setReadout(ui, key, text, value) {
    const node = ui.readouts[key];
    node.textContent = text;
    node.dataset.value = typeof value === "string" ? value : JSON.stringify(value);
  }

  function update(ui) {
    const s = readState(ui);
    ui.lastVector = s.vector;
    const params = paramsFromState(s.name, s);
    const entry = ACTIVATIONS[s.name];
    ui.root.dataset.activation = s.name;
    for (const wrapper of ui.form.querySelectorAll("[data-show-for]")) {
      wrapper.hidden = !wrapper.dataset.showFor.split(" ").includes(s.name);
    }
    for (const [key, output] of Object.entries(ui.outputs)) {
      const control = ui.controls[key];
      output.textContent = control.type === "range" ? fmt(Number(control.value)) : "";
    }
    ui.vectorMessage.textContent = s.vectorValid ? "" : "Enter 2 to 8 numbers separated by commas; the last valid vector is used.";
    ui.formula.textContent = entry.formula;
    const curve = drawFunctionPlot(ui, s, params);
    const saturatedAtX0 = Math.abs(curve.dfx0) < SATURATION_SLOPE;
    setReadout(ui, "fx0", `f(${fmt(s.x0)}) = ${fmt(curve.fx0)}`, curve.fx0);
    setReadout(ui, "dfx0", `f′(${fmt(s.x0)}) = ${fmt(curve.dfx0)}${saturatedAtX0 ? " (saturated)" : ""}`, curve.dfx0);
    setReadout(ui, "saturated", `saturated region in [−6, 6]: ${describeIntervals(curve.intervals)}`, curve.intervals);
    const products = gradientProducts(s.name, params, { depth: s.depth, distribution: s.distribution, sigma: s.sigma,
      samples: ui.samples, seed: s.seed });
    drawDepthPlot(ui, s, products);
    const L = s.depth, median = products.median[L - 1], zeros = products.zeroFraction[L - 1];
    setReadout(ui, "median", `median |f′(z₁)···f′(z_L)| at depth L = ${L}: ${fmt(median)}`
      + ` (10–90% band ${fmt(products.low[L - 1])} to ${fmt(products.high[L - 1])}; 0.25^L = ${fmt(0.25 ** L)})`, median);
    setReadout(ui, "zeros", `paths whose product is exactly 0 at depth ${L}: ${Math.round(zeros * ui.samples)} of ${ui.samples}`
      + ` (${fmt(100 * zeros)}%)`, zeros);
    ui.barsFigure.hidden = !entry.vector;
    if (entry.vector) {
      const values = drawBars(ui, s);
      setReadout(ui, "vector", `${entry.label}(v / T) at T = ${fmt(s.temperature)}: [${values.map(fmt).join(", ")}]`, values);
    } else {
      setReadout(ui, "vector", "", "[]");
    }
  }

  function init(root) {
    if (root.dataset.explorerReady) return;  // the script may be included more than once on a page
    root.dataset.explorerReady = "true";
    const prefix = `ae${++instances}-`;
    const ui = { root: root, prefix: prefix, controls: {}, outputs: {}, readouts: {}, svgs: {}, samples: 4000,
      lastVector: DEFAULT_VECTOR.slice() };
    root.replaceChildren();
    root.classList.add("ae-root");
    ui.form = buildControls(ui, prefix, root.dataset.activation || "sigmoid");
    ui.vectorMessage = el("p", { class: "ae-message", id: prefix + "vector-message" });
    ui.controls.vector.setAttribute("aria-describedby", ui.vectorMessage.id);
    ui.controls.vector.parentNode.appendChild(ui.vectorMessage);
    ui.formula = el("p", { class: "ae-formula" });
    const figure = (key, caption, height) => {
      const svg = svgEl("svg", { viewBox: `0 0 520 ${height}`, role: "img", class: "ae-svg", "data-figure": key,
        "aria-labelledby": prefix + key + "-caption" });
      ui.svgs[key] = svg;
      const fig = el("figure", { class: "ae-figure" }, [el("figcaption", { id: prefix + key + "-caption", text: caption })]);
      fig.appendChild(svg);
      return fig;
    };
    const curves = figure("curves", `f (solid) and f′ (dashed) on [−6, 6]; shaded where |f′(x)| < ${SATURATION_SLOPE}, the saturated region.`, 300);
    const depth = figure("depth", "The product of local gradients |f′(z₁)···f′(z_l)| through l layers: median (line) and 10–90% band over 4000 paths, z drawn at random; the dashed line is 0.25^l.", 300);
    ui.barsFigure = figure("bars", "The vector's outputs at temperature T (bars); the thin lines mark softmax at T = 1.", 200);
    const readouts = el("div", { class: "ae-readouts", "aria-live": "polite", "aria-atomic": "false", role: "status" });
    for (const key of ["fx0", "dfx0", "saturated", "median", "zeros", "vector"]) {
      ui.readouts[key] = el("p", { "data-readout": key });
      readouts.appendChild(ui.readouts[key]);
    }
    root.appendChild(ui.form);
    root.appendChild(ui.formula);
    root.appendChild(readouts);
    root.appendChild(el("div", { class: "ae-figures" }, [curves, ui.barsFigure, depth]));
    ui.form.addEventListener("input", () => update(ui));
    ui.form.addEventListener("change", () => update(ui));
    update(ui);
    return ui;
  }

  function initAll() {
    for (const root of document.querySelectorAll(".activation-explorer")) init(root);
  }

  global.ActivationExplorer = { formulas: formulas, stats: stats, init: init, initAll: initAll };
  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initAll);
    else initAll();
  }
})(typeof window !== "undefined" ? window : this);
