"""The mlp family written independently in numpy, from the definitions in include/lazysweep/mlp.h
and loss.h (and docs/theory.md §5 for the soft-set losses): forward pass, the losses with their
gradients with respect to the outputs, and backpropagation. Used by the end-to-end tests to
replay and check the C implementation."""
import math

import numpy as np


class Net:
    """f(x) = c·(h(x; θ) − h(x; θ₀)) (centered) or c·h(x; θ), h = g or (√2/2)(g₁ − g₂), written
    from the definitions in mlp.h; θ is the flat arena: tower by tower, layer by layer, W [out][in]
    row-major then b [out]."""

    def __init__(self, c, d, C, theta0):
        self.c = c
        self.L = c["depth"]
        self.sizes = [d] + [c["width"]] * self.L + [C]
        self.bias = c["bias"] == "true"
        self.T = 2 if c["anti"] == "true" else 1
        self.mult = [1 / math.sqrt(i) if c["param"] == "ntk" else 1.0 for i in self.sizes[:-1]]
        self.scale = c["alpha"] if c["mode"] == "output" else 1.0
        self.centered = c["mode"] == "output" and self.T == 1
        self.sign = [math.sqrt(0.5), -math.sqrt(0.5)] if self.T == 2 else [1.0]
        self.theta0 = theta0.copy()
        self.slope = c.get("slope", 0.1)

    def unpack(self, theta):
        towers, k = [], 0
        for _ in range(self.T):
            layers = []
            for i, o in zip(self.sizes[:-1], self.sizes[1:]):
                W = theta[k:k + i * o].reshape(o, i)
                k += i * o
                b = theta[k:k + o] if self.bias else np.zeros(o)
                k += o if self.bias else 0
                layers.append((W, b))
            towers.append(layers)
        assert k == theta.size
        return towers

    def phi(self, z):
        a = self.c["act"]
        if a == "relu":
            return np.maximum(z, 0), (z > 0).astype(float)
        if a == "leaky_relu":
            return np.where(z > 0, z, self.slope * z), np.where(z > 0, 1.0, self.slope)
        if a == "tanh":
            t = np.tanh(z)
            return t, 1 - t * t
        return z, np.ones_like(z)

    def tower(self, layers, X):
        """Output and the cache backprop needs: (input, φ′(z)) per layer."""
        A, cache = X, []
        for l, (W, b) in enumerate(layers):
            z = self.mult[l] * A @ W.T + b
            if l < self.L:
                a, dphi = self.phi(z)
                cache.append((A, dphi))
                A = a
            else:
                cache.append((A, None))
        return z, cache

    def h(self, theta, X):
        outs = [self.tower(t, X) for t in self.unpack(theta)]
        return sum(s * o for s, (o, _) in zip(self.sign, outs)), outs

    def f(self, theta, X):
        h, outs = self.h(theta, X)
        if self.centered:
            h = h - self.h(self.theta0, X)[0]
        return self.scale * h, outs

    def grad(self, theta, X, dF):
        """∂L/∂θ from ∂L/∂f (n × C) by the chain rule, layer by layer."""
        _, outs = self.f(theta, X)
        g = []
        for s, layers, (_, cache) in zip(self.sign, self.unpack(theta), outs):
            dz = self.scale * s * dF
            grads = []
            for l in range(self.L, -1, -1):
                A, _ = cache[l]
                W = layers[l][0]
                gW = self.mult[l] * dz.T @ A
                gb = dz.sum(axis=0)
                grads.append((gW, gb))
                if l > 0:
                    dz = (self.mult[l] * dz @ W) * cache[l - 1][1]
            for gW, gb in reversed(grads):
                g.append(gW.ravel())
                if self.bias:
                    g.append(gb)
        return np.concatenate(g)


def heaviside(p, tau):
    """Tsoi et al.'s piecewise-linear H_τ and its slope (the right one at a knot)."""
    tm = min(tau, 1 - tau)
    x = np.array([0, tau - tm / 2, tau, tau + tm / 2, 1.0])
    hv = np.array([0, 0.2, 0.5, 0.8, 1.0])
    k = np.clip(np.searchsorted(x, p, side="right") - 1, 0, 3)
    slope = (hv[k + 1] - hv[k]) / (x[k + 1] - x[k])
    return hv[k] + slope * (p - x[k]), slope


def softset(z, y, f1):
    """1 − mean_τ metric of the soft counts, and ∂/∂z: for each τ, the metric as a function of
    (TP, FN, FP, TN) differentiated numerically-free by hand."""
    p = 1 / (1 + np.exp(-z))
    e, total, dz = 1e-7, 0.0, np.zeros_like(z)
    for k in range(1, 10):
        H, dH = heaviside(p, k / 10)
        tp, fn = np.sum(y * H), np.sum(y * (1 - H))
        fp, tn = np.sum((1 - y) * H), np.sum((1 - y) * (1 - H))
        if f1:
            P, R = tp / (tp + fp + e), tp / (tp + fn + e)
            F = 2 * P * R / (P + R + e)
            dF_dP = 2 * R * (R + e) / (P + R + e) ** 2
            dF_dR = 2 * P * (P + e) / (P + R + e) ** 2
            dP = np.array([(fp + e) / (tp + fp + e) ** 2, 0, -tp / (tp + fp + e) ** 2, 0])
            dR = np.array([(fn + e) / (tp + fn + e) ** 2, -tp / (tp + fn + e) ** 2, 0, 0])
            dM = dF_dP * dP + dF_dR * dR  # ∂F/∂(TP, FN, FP, TN)
            total += F
        else:
            n = len(y)
            total += (tp + tn) / n
            dM = np.array([1, 0, 0, 1]) / n
        # ∂(TP, FN, FP, TN)/∂H_i = (y, −y, 1 − y, −(1 − y))
        dMdH = dM[0] * y - dM[1] * y + dM[2] * (1 - y) - dM[3] * (1 - y)
        dz -= dMdH * dH * p * (1 - p) / 9
    return 1 - total / 9, dz


def loss(name, F, y, C):
    """Mean loss over the rows and ∂L/∂F (rows × C)."""
    n = F.shape[0]
    if name == "mse":
        T = y[:, None] if C == 1 else np.eye(C)[y.astype(int)]
        r = F - T
        return np.sum(r * r) / n, 2 * r / n
    if name == "bce":
        z = F[:, 0]
        L = np.sum(np.logaddexp(0, z) - y * z) / n
        return L, ((1 / (1 + np.exp(-z)) - y) / n)[:, None]
    if name == "cross_entropy":
        m = F.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(F - m).sum(axis=1))
        Y = np.eye(C)[y.astype(int)]
        P = np.exp(F - lse[:, None])
        return np.sum(lse - np.sum(F * Y, axis=1)) / n, (P - Y) / n
    L, dz = softset(F[:, 0], y, name == "soft_f1")
    return L, dz[:, None]
