"""Checkpoints: save a run's state atomically, find the newest valid one, restore it.

A checkpoint is one HDF5 file ``<folder>/ckpt_NNNNNN.h5``::

    m          (N, 3) float64   nodal m in the mesh's input node order (any rank count)
    attrs      t [s], ranks, nodes, state (JSON text: the caller's dict — stage, dt [s],
               rows, RNG state ...), sha256 (of m's bytes + t + state), format

Written on rank 0 after a gather, under a temporary name, flushed and fsync'd, then
renamed (``os.replace`` is atomic on POSIX): a run killed at any moment leaves either the
complete new file or none, never half of one under the final name. The checksum catches
what atomicity cannot (a file damaged later, a disk that lied): :func:`latest` skips a
damaged file with a warning and returns the previous one.

m is stored by input node index (Gmsh's order, see :func:`femag.compat.p1_input_indices`),
so a checkpoint written on p ranks restores on q ranks. LLB states (|m| ≠ 1) are stored
as they are.
"""
from __future__ import annotations

import glob
import hashlib
import json
import os
import time
import warnings

import numpy as np
from mpi4py import MPI

from . import compat
from .output import gather_rows, on_rank0

FORMAT = "femag-checkpoint-1"
PATTERN = "ckpt_{:06d}.h5"


class CheckpointError(RuntimeError):
    """A checkpoint file that cannot be used (damaged, or for another mesh)."""


def _checksum(m, t, state_text):
    digest = hashlib.sha256(np.ascontiguousarray(m, dtype=np.float64).tobytes())
    digest.update(repr(float(t)).encode())
    digest.update(state_text.encode())
    return digest.hexdigest()


def _gather_m(sim):
    """(N, 3) m in input node order on rank 0, None elsewhere (collective)."""
    owned = sim.n_owned
    index = compat.p1_input_indices(sim.V)[:owned]
    values = sim.m.x.array.reshape(-1, 3)[:owned].astype(np.float64)
    index = gather_rows(sim.comm, index)
    values = gather_rows(sim.comm, values)
    if sim.comm.rank != 0:
        return None
    m = np.empty_like(values)
    m[index] = values
    return m


def _number(name):
    stem = os.path.basename(name)
    try:
        return int(stem[len("ckpt_"):-len(".h5")])
    except ValueError:
        return -1


def _files(folder):
    """Checkpoint files in `folder`, oldest first."""
    names = [n for n in glob.glob(os.path.join(folder, "ckpt_*.h5")) if _number(n) >= 0]
    return sorted(names, key=_number)


def write(path, m, t, state, ranks):
    """Write one checkpoint file atomically (rank 0 only; not collective)."""
    import h5py
    state_text = json.dumps(state, sort_keys=True)
    tmp = path + ".tmp"
    try:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("m", data=m)
            f.attrs["format"] = FORMAT
            f.attrs["t"] = float(t)
            f.attrs["ranks"] = int(ranks)
            f.attrs["nodes"] = int(len(m))
            f.attrs["state"] = state_text
            f.attrs["sha256"] = _checksum(m, t, state_text)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def read(path):
    """(m (N, 3), t in s, state dict) of a checkpoint file; CheckpointError if damaged."""
    import h5py
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise CheckpointError(f"{path}: not a femag checkpoint (format "
                                      f"{f.attrs.get('format')!r})")
            m = np.asarray(f["m"][...], dtype=np.float64)
            t = float(f.attrs["t"])
            state_text = str(f.attrs["state"])
            stored = str(f.attrs["sha256"])
    except CheckpointError:
        raise
    except Exception as exc:  # h5py raises OSError/KeyError/... for damaged files
        raise CheckpointError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
    if _checksum(m, t, state_text) != stored:
        raise CheckpointError(f"{path}: checksum mismatch (the file is damaged)")
    if m.ndim != 2 or m.shape[1] != 3 or not np.all(np.isfinite(m)):
        raise CheckpointError(f"{path}: m has shape {m.shape} or non-finite values")
    return m, t, json.loads(state_text)


class Checkpointer:
    """Writes checkpoints of `sim` into `folder` (collective: call on every rank).

    Parameters
    ----------
    sim : femag.Simulation
    folder : str
        Created if missing; files ``ckpt_NNNNNN.h5``.
    every : float
        Wall-clock seconds between checkpoints for :meth:`maybe_save` (0: every call).
    keep : int
        How many of the newest checkpoints to keep (≥ 2, so a damaged newest one has a
        predecessor).
    """

    def __init__(self, sim, folder, every=600.0, keep=3):
        every = float(every)
        if not np.isfinite(every) or every < 0:
            raise ValueError(f"checkpoint interval must be ≥ 0 s of wall time, got {every!r}")
        if int(keep) < 1:
            raise ValueError(f"checkpoint keep must be ≥ 1, got {keep!r}")
        self.sim, self.folder, self.every, self.keep = sim, str(folder), every, int(keep)
        self.comm = sim.comm
        self.last = time.monotonic()
        self.saved = 0
        self.seconds = 0.0  # wall time spent writing checkpoints

        def prepare():
            os.makedirs(self.folder, exist_ok=True)
            for tmp in glob.glob(os.path.join(self.folder, "*.tmp")):
                os.remove(tmp)  # left by a killed run
            files = _files(self.folder)
            return _number(files[-1]) + 1 if files else 0
        self.next_number = self.comm.bcast(on_rank0(self.comm, prepare), root=0)

    def due(self):
        """True (on every rank) when `every` seconds passed since the last checkpoint."""
        return bool(self.comm.bcast(time.monotonic() - self.last >= self.every
                                    if self.comm.rank == 0 else None, root=0))

    def maybe_save(self, state=None):
        """Save if due; returns the path written or None (collective)."""
        return self.save(state) if self.due() else None

    def save(self, state=None):
        """Save now (collective); returns the file's path. `state`: JSON-able dict."""
        start = time.perf_counter()
        state = dict(state or {})
        json.dumps(state)  # fail early, on every rank, if it is not JSON-able
        m = _gather_m(self.sim)
        path = os.path.join(self.folder, PATTERN.format(self.next_number))

        def work():
            write(path, m, self.sim.t, state, self.comm.size)
            for old in _files(self.folder)[:-self.keep]:
                os.remove(old)
        on_rank0(self.comm, work)
        self.next_number += 1
        self.saved += 1
        self.last = time.monotonic()
        self.seconds += time.perf_counter() - start
        return path


def latest(folder, comm=MPI.COMM_WORLD):
    """Path of the newest valid checkpoint in `folder`, or None (collective).

    Damaged files (unreadable, wrong checksum) are skipped with a warning naming them;
    the previous one is returned."""
    def work():
        if not os.path.isdir(folder):
            return None, []
        problems = []
        for path in reversed(_files(folder)):
            try:
                read(path)
                return path, problems
            except CheckpointError as err:
                problems.append(str(err))
        return None, problems
    path, problems = comm.bcast(on_rank0(comm, work), root=0)
    if comm.rank == 0:
        for problem in problems:
            warnings.warn(f"skipping checkpoint: {problem}", RuntimeWarning, stacklevel=2)
    return path


def restore(sim, path):
    """Load a checkpoint into `sim` (sets sim.m and sim.t; collective); returns its state.

    Works for any number of ranks; the mesh must be the one the checkpoint was written
    for (same number of nodes, same input order)."""
    def work():
        return read(path)
    m, t, state = sim.comm.bcast(on_rank0(sim.comm, work), root=0)
    index = compat.p1_input_indices(sim.V)
    n_global = sim.comm.allreduce(sim.n_owned, op=MPI.SUM)
    if len(m) != n_global:
        raise CheckpointError(f"{path}: written for a mesh with {len(m)} nodes, this mesh has "
                              f"{n_global}")
    sim.m.x.array[:] = m[index].reshape(-1)
    compat.scatter_forward(sim.m)
    sim.t = float(t)
    return state
