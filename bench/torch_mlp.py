"""The same training steps as bench/mlp_speed.c in PyTorch: float64, one thread, the four shapes,
relu MLPs with biases, cross-entropy (10 classes) or mean squared error (one output), a step being
forward, loss, backward and a plain SGD update on a fixed batch.

PyTorch is given its best showing: each figure is the better of two idiomatic update styles
(torch.optim.SGD with foreach, and an in-place loop under no_grad), gradients are set to None
rather than zeroed, and every figure is the best of 3 timed runs after a warm-up.

Usage: torch_mlp.py [seconds per run, default 0.5]. Output: `torch <name> steps_per_s <s>`."""
import sys
import time

import torch

SHAPES = [("784-256-256-10", 784, 256, 2, 10, 64),
          ("784-1024x3-10", 784, 1024, 3, 10, 128),
          ("20-100x5-1", 20, 100, 5, 1, 32),
          ("1-1000-1", 1, 1000, 1, 1, 5)]
REPEATS = 3
LR = 1e-4


def best_rate(fn, seconds):
    best = 0.0
    for r in range(REPEATS + 1):
        budget = seconds / 5 if r == 0 else seconds
        t0, calls = time.perf_counter(), 0
        while True:
            fn()
            calls += 1
            t = time.perf_counter() - t0
            if t >= budget:
                break
        if r > 0:
            best = max(best, calls / t)
    return best


def network(d, width, depth, C):
    layers, fan_in = [], d
    for _ in range(depth):
        layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, C))
    return torch.nn.Sequential(*layers)


def steps(d, width, depth, C, batch):
    """Two step functions (optimizer, manual update) over one network and batch."""
    torch.manual_seed(1)
    net = network(d, width, depth, C)
    X = torch.sin(0.37 * torch.arange(batch * d, dtype=torch.float64)).reshape(batch, d)
    if C > 1:
        y = torch.arange(batch) % C
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        y = torch.cos(torch.arange(batch, dtype=torch.float64)).reshape(batch, 1)
        loss_fn = torch.nn.MSELoss()
    opt = torch.optim.SGD(net.parameters(), lr=LR, foreach=True)
    params = list(net.parameters())

    def with_optimizer():
        opt.zero_grad(set_to_none=True)
        loss_fn(net(X), y).backward()
        opt.step()

    def manual():
        for p in params:
            p.grad = None
        loss_fn(net(X), y).backward()
        with torch.no_grad():
            for p in params:
                p.add_(p.grad, alpha=-LR)

    return with_optimizer, manual


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    for name, d, width, depth, C, batch in SHAPES:
        rate = max(best_rate(fn, seconds) for fn in steps(d, width, depth, C, batch))
        print(f"torch {name} steps_per_s {rate:.1f}", flush=True)


if __name__ == "__main__":
    main()
