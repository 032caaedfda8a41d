"""actlab: the small library that the book's chapters and the labs share.

Chapters and labs import from here so that notebook cells stay short and show the idea, not the plumbing:

- plots: the course's figure style and shared plots (curves, activation grids, decision boundaries)
- data: toy data sets (XOR, circles)
- activations: PyTorch reference activations by name, and f / f' figures for chapter 5
- nets: MLPs with a chosen activation and initialisation, training on any device, MNIST-5k and digits,
  and instruments (per-layer gradient norms, dead and saturated units)
- device: CPU or GPU, lab sizes per device, the grader's smoke-test mode
- kernels, flow, shootout: the experiments of the labs (lab_speed and lab_autograd; lab_gradient_flow
  and lab_dying_relu; lab_shootout)
"""
