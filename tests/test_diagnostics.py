"""actlab.diagnostics, the instruments students use to look inside a network, measure what they say."""
import math

import pytest
import torch
import torch.nn.functional as F

from actlab import diagnostics, nets


@pytest.fixture(scope="module")
def data():
    X, y, _, _ = nets.digits(seed=0)
    return X[:256], y[:256]


def test_the_initial_loss_is_log_k_for_small_logits_and_far_above_for_large_ones(data):
    X, y = data
    losses = {}
    for scale in (0.1, 10):
        net = nets.make_mlp(64, 64, 3, 10, "relu", "he", seed=0)
        with torch.no_grad():
            nets.linear_layers(net)[-1].weight.mul_(scale)
        losses[scale], log_k = diagnostics.initial_loss(net, X, y)
    assert log_k == pytest.approx(math.log(10))
    assert abs(losses[0.1] - log_k) < 0.01 and losses[10] > 3 * log_k


def test_the_gradient_reaching_the_last_hidden_layer_is_the_chain_rules(data):
    X, y = data
    net = nets.make_mlp(64, 32, 2, 10, "tanh", "xavier", seed=1)
    layers = diagnostics.activations_and_gradients(net, X, y)
    assert len(layers) == 2 and all(p.grad is None for p in net.parameters())  # the model's gradients untouched
    a, g = layers[-1]
    with torch.no_grad():
        output = nets.linear_layers(net)[-1]
        dlogits = (torch.softmax(output(a), dim=1) - F.one_hot(y, 10)) / len(y)
        expected = dlogits @ output.weight
    assert torch.allclose(g, expected, atol=1e-7)


def test_the_saturated_fraction_counts_flat_slopes(data):
    X, y = data
    relu = nets.make_mlp(64, 32, 2, 10, "relu", "he", seed=2)
    first_z = nets.linear_layers(relu)[0](X)
    assert diagnostics.saturated_fraction(relu, X)[0] == pytest.approx((first_z <= 0).float().mean().item())
    shares = {}
    for gain in (1, 4):
        tanh = nets.make_mlp(64, 64, 3, 10, "tanh", "xavier", seed=0)
        with torch.no_grad():
            for layer in nets.linear_layers(tanh):
                layer.weight.mul_(gain)
        shares[gain] = diagnostics.saturated_fraction(tanh, X)
    assert max(shares[1]) < 0.05 < 0.3 < min(shares[4])


def test_the_update_ratio_of_each_step_is_the_step_over_the_weight_before_it(data):
    X, y = data
    net = nets.make_mlp(64, 16, 2, 10, "relu", "he", seed=3)
    optimiser, lr = torch.optim.SGD(net.parameters(), lr=0.5), 0.5
    ratios = diagnostics.UpdateRatios(net)
    expected = []
    for _ in range(2):   # two steps: each is measured from the weights just before it, not from the start
        optimiser.zero_grad()
        F.cross_entropy(net(X), y).backward()
        expected.append([(lr * layer.weight.grad.norm() / layer.weight.norm()).item()
                         for layer in nets.linear_layers(net)])
        optimiser.step()
        ratios.record()
    assert ratios.history.shape == (2, 3)
    assert ratios.history.ravel().tolist() == pytest.approx(sum(expected, []), rel=1e-5)


def test_a_check_up_has_a_row_per_hidden_layer(data):
    X, y = data
    rows = diagnostics.check_up(nets.make_mlp(64, 32, 3, 10, "sigmoid", "xavier", seed=4), X, y)
    assert [r["layer"] for r in rows] == [1, 2, 3]
    assert all(0.4 < r["mean"] < 0.6 and 0 <= r["saturated"] <= 1 and r["grad_std"] > 0 for r in rows)
