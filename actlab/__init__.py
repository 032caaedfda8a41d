"""actlab: the small library that the book's chapters and the labs share.

Chapters and labs import from here so that notebook cells stay short and show the idea, not the plumbing:

- plots: the course's figure style and shared plots (curves, activation grids, decision boundaries)
- data: toy data sets (XOR, circles)
- nets: MLPs with a chosen activation and initialisation, training on any device, MNIST-5k and digits
- device: CPU or GPU, lab sizes per device, the grader's smoke-test mode (settings: ACTLAB_SIZE, read there)
- visible: the assertions of the notebooks' visible tests (dtype kept, input unchanged, no warning, ...)
- kernels, flow, shootout: the experiments of the labs (lab_speed and lab_autograd; lab_gradient_flow
  and lab_dying_relu; lab_shootout)
- check: `python -m actlab.check NOTEBOOK`, the students' check of a notebook before they submit it

Students import this library, in their notebooks and in the grader's sandbox, so it holds no answer to
any graded function: the experiments take the student's functions as arguments, and the book's own
versions of what it measures live with the book (book/_activations.py, book/labs/_instruments.py).
tests/test_library_has_no_answers.py holds the library to this.
"""
