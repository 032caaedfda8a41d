"""The labs' GPU path. On a machine with a CUDA GPU these checks measure what the labs claim there;
elsewhere they are skipped, and the same code is exercised on the CPU by the lab runs and the book.

They need only torch, numpy, scikit-learn and tqdm, so they run under plain pytest on a GPU machine
without Jupyter: `python -m pytest tests/test_gpu.py -v -s` prints the measured figures.
"""
import pytest
import torch

from actlab import device as devices, kernels, nets

gpu = pytest.mark.skipif(not torch.cuda.is_available(),
                         reason="no CUDA GPU here: the labs' GPU figures are measured on a GPU machine")


def test_the_labs_pick_the_gpu_when_there_is_one_and_say_which():
    dev = devices.pick_device()
    assert dev.type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert devices.describe(dev).startswith("GPU:" if dev.type == "cuda" else "CPU:")


@gpu
def test_the_best_fused_bias_activation_reaches_80_percent_of_copy_bandwidth():
    dev = devices.pick_device()
    rows = kernels.activation_table(dev, numel=2**28, progress=False)
    print("\n" + devices.describe(dev))
    for row in rows:
        print(f"{row['kernel']:40s} {row['seconds'] * 1e3:8.3f} ms {row['GB/s']:8.1f} GB/s {row['of copy']:6.0%}")
    print(kernels.verdict(rows, dev))
    assert kernels.find(rows, "fused")["of copy"] >= kernels.TARGET_FRACTION


@gpu
def test_training_on_the_gpu_matches_the_cpu_and_learns():
    X, y, X_test, y_test = nets.digits(seed=0)
    results = {}
    for where in ["cpu", "cuda"]:
        model = nets.make_mlp(64, 128, 4, 10, "relu", "he", seed=0).to(where)
        history = nets.train_classifier(model, X.to(where), y.to(where), epochs=5, lr=1e-3, seed=0,
                                        X_test=X_test.to(where), y_test=y_test.to(where))
        results[where] = history
        print(f"\n{where}: test accuracy {history['test_accuracy'][-1]:.3f}, "
              f"{sum(history['seconds']):.2f} s for 5 epochs")
    assert results["cuda"]["test_accuracy"][-1] > 0.9
    assert abs(results["cuda"]["test_accuracy"][-1] - results["cpu"]["test_accuracy"][-1]) < 0.03
