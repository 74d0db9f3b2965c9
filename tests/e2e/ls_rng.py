"""lazysweep's random streams in pure Python (rng.c, optim.c), for tests that replay a run:
Philox4x32-10 blocks, FNV-1a stream keys, rng_below, and the mini-batch sampler's epochs."""

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK32, MASK64 = 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF
FNV_INIT, FNV_PRIME = 0xCBF29CE484222325, 0x100000001B3


def philox(ctr, key):
    """One Philox4x32-10 block of the 4-word counter under the 2-word key."""
    x = list(ctr)
    k0, k1 = key
    for r in range(10):
        if r > 0:
            k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
        p0, p1 = M0 * x[0], M1 * x[2]
        x = [((p1 >> 32) ^ x[1] ^ k0) & MASK32, p1 & MASK32,
             ((p0 >> 32) ^ x[3] ^ k1) & MASK32, p0 & MASK32]
    return x


def fnv(h, data):
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def fnv_u64(h, v):
    return fnv(h, (v & MASK64).to_bytes(8, "little"))


def rng_key(master, seed, name, shape):
    """rng_key(): every variable-length part preceded by its length."""
    h = fnv_u64(FNV_INIT, master)
    h = fnv_u64(h, seed)
    h = fnv_u64(h, len(name))
    h = fnv(h, name.encode())
    h = fnv_u64(h, len(shape))
    for s in shape:
        h = fnv_u64(h, s)
    return h


class Stream:
    """A stream at draw 0: 32-bit words in block order."""

    def __init__(self, key):
        self.key = (key & MASK32, key >> 32)
        self.counter, self.buf, self.used = 0, [], 4

    def u32(self):
        if self.used >= 4:
            c = self.counter
            self.buf = philox([c & MASK32, (c >> 32) & MASK32, 0, 0], self.key)
            self.counter, self.used = c + 1, 0
        self.used += 1
        return self.buf[self.used - 1]

    def below(self, n):
        """Uniform in [0, n) by rejection (n < 2^32 here)."""
        if n <= 1:
            return 0
        floor = (2**32 - n) % n
        while True:
            x = self.u32()
            if x >= floor:
                return x % n


def batches(master, seed, n, b, steps):
    """The first `steps` mini-batches of optim.c's sampler: each epoch a Fisher–Yates shuffle of
    the identity from the top, cut into batches of b (the last one shorter)."""
    r = Stream(rng_key(master, seed, "train.batches", [n, b]))
    out = []
    while len(out) < steps:
        perm = list(range(n))
        for i in range(n - 1, 0, -1):
            j = r.below(i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        out += [perm[k:k + b] for k in range(0, n, b)]
    return out[:steps]
