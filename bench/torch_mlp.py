"""The same training steps as bench/mlp_speed.c in PyTorch: float64, one thread, the four shapes,
relu MLPs with biases, cross-entropy (10 classes) or mean squared error (one output), a step being
forward, loss, backward and a plain SGD update on a fixed batch.

PyTorch is given its best showing: each figure is the better of two idiomatic update styles
(torch.optim.SGD with foreach, and an in-place loop under no_grad), and gradients are set to None
rather than zeroed. Rates are measured as in mlp_speed.c: in the thread's CPU time (PyTorch runs
its operators in the calling thread with one thread), the fastest of many short blocks of steps
(each at least BLOCK seconds; at least MIN_BLOCKS and as many as fit in the budget), after a
warm-up.

Usage: torch_mlp.py [seconds per shape, default 1] [shape name ...] (default: every shape).
Output: `torch <name> steps_per_s <s>`."""
import sys
import time

import torch

SHAPES = [("784-256-256-10", 784, 256, 2, 10, 64),
          ("784-1024x3-10", 784, 1024, 3, 10, 128),
          ("20-100x5-1", 20, 100, 5, 1, 32),
          ("1-1000-1", 1, 1000, 1, 1, 5)]
BLOCK = 0.005
MIN_BLOCKS = 40
LR = 1e-4


def best_rate(fn, seconds):
    best, start, blocks = 0.0, time.thread_time(), 0
    warm, end = start + seconds / 10, start + seconds * 1.1
    t0 = start
    while t0 < end or blocks < MIN_BLOCKS:
        calls = 0
        while True:
            fn()
            calls += 1
            t = time.thread_time() - t0
            if t >= BLOCK:
                break
        if t0 >= warm:
            best = max(best, calls / t)
            blocks += 1
        t0 = time.thread_time()
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
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    wanted = sys.argv[2:] or [s[0] for s in SHAPES]
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    for name, d, width, depth, C, batch in SHAPES:
        if name not in wanted:
            continue
        rate = max(best_rate(fn, seconds / 2) for fn in steps(d, width, depth, C, batch))
        print(f"torch {name} steps_per_s {rate:.1f}", flush=True)


if __name__ == "__main__":
    main()
