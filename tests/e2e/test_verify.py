"""Bit flips in every dataset and attribute the tool writes, and in the journal's header.

Each case takes one finished sweep (the reference, run once), flips a single bit at a dataset's
byte offset in a copy of it (found with h5py, so the flip is where the dataset's values are, and
HDF5's own checksums cannot see it), then checks that `lazysweep verify` names the dataset and the
row and exits 4, that a rerun repairs the file without training any point again, and that the
result equals the reference dataset by dataset, byte for byte, attributes included.
Figures (cases found and repaired) are printed with -s and feed the README's fault table."""
import shutil
import struct
import zlib
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import journal_records, lazysweep, run, write_job

JOB = """\
name: flips
seed: 9
model: {family: diagonal, depth: 2, init_scale: 0.1}
data: {kind: sparse_regression, n_train: 12, dim: 24, support: 2, noise_std: 0.05}
train: {optimizer: gd, lr: 0.01, max_steps: 200, log: {points: 6}}
store: [beta]
grid:
  init_scale: [0.1, 1.0]
  depth: [2, 3]
  model.init: [constant, random]
  seed: {range: [0, 3]}
"""
N = 24


def snapshot(path):
    """Every dataset (as bytes) and every root attribute of a results file."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            out[name] = obj[()].tobytes() if obj.shape != () else bytes(obj[()])
    with h5py.File(path, "r") as f:
        f.visititems(visit)
        out.update({"@" + k: str(v) for k, v in f.attrs.items()})
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("ref")
    job = write_job(d, JOB)
    out = d / "ref.h5"
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    return job, out, snapshot(out)


def copy_ref(reference, tmp_path):
    job, out, snap = reference
    mine = tmp_path / "o.h5"
    shutil.copy(out, mine)
    shutil.copy(str(out) + ".journal", str(mine) + ".journal")
    return job, mine, snap


def flip(path, offset, bit):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([b ^ bit]))


def dataset_offset(path, name, row):
    """File offset of row `row` of a contiguous dataset, and the bytes one row takes."""
    with h5py.File(path, "r") as f:
        ds = f[name]
        width = ds.dtype.itemsize * (int(np.prod(ds.shape[1:])) if ds.ndim > 1 else 1)
        return ds.id.get_offset() + row * width, width


# (dataset, row, byte within the row, bit): a bit the values hold, not padding.
DATASETS = [
    ("grid/depth", 3, 6, 0x10),          # 3 -> 4503599627370499, the review's case
    ("grid/init_scale", 5, 7, 0x01),
    ("grid/model.init", 6, 1, 0x02),     # a string axis
    ("grid/seed", 7, 0, 0x01),
    ("point", 11, 0, 0x04),
    ("trajectories/step", 2, 1, 0x01),
    ("status", 4, 0, 0x02),
    ("metrics/train_loss", 9, 3, 0x01),
    ("trajectories/train_loss", 13, 8 * 2 + 1, 0x20),
    ("timing/seconds", 14, 2, 0x01),
    ("timing/host", 15, 0, 0x01),
    ("vectors/beta", 16, 8 * 5 + 7, 0x40),
    ("job", 0, 7, 0x01),
]


def check_found_and_repaired(job, out, snap, name, row):
    n_records = len(journal_records(str(out) + ".journal"))
    assert snapshot(out) != snap, "the flip changed what h5py reads"
    v = lazysweep("verify", out)
    assert v.returncode == 4, (v.returncode, v.stdout, v.stderr)
    assert f"/{name}" in v.stdout and (row is None or f"row {row}" in v.stdout), v.stdout
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    assert len(journal_records(str(out) + ".journal")) == n_records, "no point ran again"
    got = snapshot(out)
    assert sorted(got) == sorted(snap)
    for k in snap:
        assert got[k] == snap[k], f"{k} differs after the repair"
    v = lazysweep("verify", out)
    assert v.returncode == 0, v.stdout


@pytest.mark.parametrize("name,row,byte,bit", DATASETS, ids=[d[0] for d in DATASETS])
def test_flipped_bit_in_dataset_is_found_and_repaired(reference, tmp_path, name, row, byte, bit):
    job, out, snap = copy_ref(reference, tmp_path)
    off, width = dataset_offset(out, name, row)
    assert byte < width
    flip(out, off + byte, bit)
    check_found_and_repaired(job, out, snap, name, None if name == "job" else row)


@pytest.mark.parametrize("attr,text", [("job_canonical", b"model.family=diagonal"),
                                       ("job_name", b"flips")])
def test_flipped_bit_in_root_attribute_is_found_and_repaired(reference, tmp_path, attr, text):
    """Variable-length string attributes live in HDF5's global heap, which has no checksum."""
    job, out, snap = copy_ref(reference, tmp_path)
    data = out.read_bytes()
    heap = data.find(b"GCOL")  # the global heap collection holding the strings
    at = data.find(text, heap)
    assert heap > 0 and at > heap, "the attribute's bytes in the global heap"
    flip(out, at + 2, 0x01)
    check_found_and_repaired(job, out, snap, "@" + attr, None)


def test_verify_usage_and_missing_journal(reference, tmp_path):
    job, out, snap = copy_ref(reference, tmp_path)
    h = lazysweep("verify", "--help")
    assert h.returncode == 0 and "Exit codes" in h.stdout
    assert lazysweep("verify").returncode == 2
    v = lazysweep("verify", out)
    assert v.returncode == 0 and "consistent" in v.stdout, v.stdout
    Path(str(out) + ".journal").unlink()
    v = lazysweep("verify", out)
    assert v.returncode == 2 and "no journal" in v.stderr, v.stderr
    assert snapshot(out) == snap, "verify changes nothing"


# ---- the journal's header ----------------------------------------------------------------------

def header_span(jpath):
    """Length of one header record (frame + payload) of a journal written by this version."""
    data = Path(jpath).read_bytes()
    n = struct.unpack_from("<I", data, 4)[0]
    assert data[12:16] == b"LSJH" and data[:12 + n] == data[12 + n:2 * (12 + n)], "two copies"
    return 12 + n


def test_flipped_byte_in_journal_header_costs_nothing(reference, tmp_path):
    """Each sampled byte of the header — frame, tag, version, hash, lengths, canonical text, job
    text, in either copy — flipped in turn: the rerun trains nothing, the file is complete and
    unchanged, and the journal's header is whole again afterwards."""
    job, out, snap = copy_ref(reference, tmp_path)
    jpath = Path(str(out) + ".journal")
    good = jpath.read_bytes()
    rec = header_span(jpath)
    first = list(range(0, 24, 2)) + list(range(24, rec, max(1, rec // 6)))
    positions = first + [rec + p for p in (0, 9, 20, rec // 2, rec - 1)]
    survived = 0
    for pos in positions:
        shutil.copy(reference[1], out)
        jpath.write_bytes(good)
        flip(jpath, pos, 0x08)
        r = run(job, out)
        assert r.returncode == 0, (pos, r.stderr)
        assert "header was damaged" in r.stderr, (pos, r.stderr)
        assert len(journal_records(jpath)) == N and jpath.read_bytes() == good, pos
        assert snapshot(out) == snap, pos
        survived += 1
    print(f"\njournal header: {survived} of {len(positions)} flipped bytes cost nothing")


def test_version1_journal_header_is_rederived_from_the_job(reference, tmp_path):
    """A journal written before the header had a copy (one header, version 1): a flipped bit in
    it is recovered by recomputing the header this job writes, since its CRC still matches."""
    job, out, snap = copy_ref(reference, tmp_path)
    jpath = Path(str(out) + ".journal")
    data = jpath.read_bytes()
    rec = header_span(jpath)
    with h5py.File(out, "r") as f:
        hash_ = int(f.attrs["job_hash"], 16)
        canonical = f.attrs["job_canonical"].encode()
    payload = b"LSJH" + struct.pack("<IQ", 1, hash_) + canonical
    v1 = b"LSJR" + struct.pack("<II", len(payload), zlib.crc32(payload)) + payload
    jpath.write_bytes(v1 + data[2 * rec:])
    assert lazysweep("verify", out).returncode == 0
    flip(jpath, 12 + 30, 0x01)  # inside the canonical text
    r = run(job, out)
    assert r.returncode == 0, r.stderr
    assert "header was damaged" in r.stderr, r.stderr
    assert len(journal_records(jpath)) == N
    assert snapshot(out) == snap
