"""Reading a run folder back: ``run = femag.load("out/")``.

    run.table["t [s]"], run.column("mx")   # dict of numpy arrays keyed by the CSV header
    run.times                              # times (s) of the ParaView steps
    grid = run.mesh(-1)                    # pyvista.UnstructuredGrid: m, M, |m|, H_*, region
    run.snapshot("final.png", kind="glyphs", component="mz")
    run.plot_table("table.png")
    run.restore(sim, step=-1)              # a checkpoint: m and t back into a Simulation

Works in any process (no MPI collectives); needs h5py, and pyvista for meshes and
snapshots. Lengths in m, fields in A/m, times in s, as written by :mod:`femag.output`.
"""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import numpy as np

from .output import INFO, SERIES, TABLE


def read_table(path):
    """table.csv → {header name: float array}. A last line cut short (a run killed while
    writing, which femag's writer avoids but other tools may not) is dropped."""
    with open(path) as f:
        lines = f.read().split("\n")
    header = lines[0].split(",") if lines and lines[0] else []
    rows = []
    for line in lines[1:]:
        values = line.split(",")
        if len(values) != len(header):
            continue
        try:
            rows.append([float(v) for v in values])
        except ValueError:
            continue
    data = np.array(rows, dtype=float).reshape(len(rows), len(header))
    return {name: data[:, i].copy() for i, name in enumerate(header)}


def _data_item(element):
    item = element.find("DataItem")
    filename, dataset = item.text.strip().split(":")
    return filename, dataset


class Run:
    """A femag output folder (see :mod:`femag.output` for its layout)."""

    def __init__(self, folder):
        self.folder = os.fspath(folder)
        if not os.path.isdir(self.folder):
            raise FileNotFoundError(f"no output folder {self.folder!r}")
        table = os.path.join(self.folder, TABLE)
        self.table = read_table(table) if os.path.exists(table) else {}
        info = os.path.join(self.folder, INFO)
        self.info = {}
        if os.path.exists(info):
            with open(info) as f:
                self.info = json.load(f)
        self._steps = []  # (time, {name: (h5 file, dataset, centre)})
        self._topology = self._geometry = None
        series = os.path.join(self.folder, SERIES)
        if os.path.exists(series):
            self._read_series(series)

    def _read_series(self, path):
        root = ET.parse(path).getroot()
        collection = root.find("Domain").find("Grid")
        for grid in collection.findall("Grid"):
            if self._topology is None:
                self._topology = _data_item(grid.find("Topology"))
                self._geometry = _data_item(grid.find("Geometry"))
            arrays = {a.get("Name"): _data_item(a) + (a.get("Center"),)
                      for a in grid.findall("Attribute")}
            self._steps.append((float(grid.find("Time").get("Value")), arrays))

    # -- table ------------------------------------------------------------------------
    def column(self, name):
        """A table column by its header name, with or without the unit ("t" = "t [s]")."""
        if name in self.table:
            return self.table[name]
        for key in self.table:
            if key.split(" [")[0] == name:
                return self.table[key]
        raise KeyError(f"no column {name!r}; columns: {list(self.table)}")

    # -- series ------------------------------------------------------------------------
    @property
    def times(self):
        """Times (s) of the saved ParaView steps."""
        return np.array([t for t, _ in self._steps])

    @property
    def fields(self):
        """Array names of the series (m, M, |m|, H_*, region)."""
        return list(self._steps[0][1]) if self._steps else []

    def __len__(self):
        return len(self._steps)

    def _read(self, ref):
        import h5py
        filename, dataset = ref[:2]
        with h5py.File(os.path.join(self.folder, filename), "r") as f:
            return f[dataset][()]

    def _step(self, step):
        if not self._steps:
            raise ValueError(f"{self.folder!r} has no saved ParaView steps")
        try:
            return self._steps[step]
        except IndexError:
            raise IndexError(f"step {step} out of range: {len(self._steps)} saved steps") from None

    def points(self):
        """Node coordinates (n, 3) in m."""
        self._step(0)
        return self._read(self._geometry)

    def array(self, name, step=-1):
        """One saved array (e.g. "m" (n, 3), "|m|" (n,), "region" (cells,)) at `step`."""
        _, arrays = self._step(step)
        if name not in arrays:
            raise KeyError(f"no array {name!r}; arrays: {list(arrays)}")
        return self._read(arrays[name])

    def mesh(self, step=-1):
        """pyvista.UnstructuredGrid (points in m) with the point and cell arrays of `step`
        (default the last), its time in ``grid.field_data["time [s]"]``."""
        import pyvista
        t, arrays = self._step(step)
        cells = self._read(self._topology).astype(np.int64)
        grid = pyvista.UnstructuredGrid({pyvista.CellType.TETRA: cells}, self.points())
        for name, ref in arrays.items():
            target = grid.point_data if ref[2] == "Node" else grid.cell_data
            target[name] = self._read(ref)
        grid.field_data["time [s]"] = np.array([t])
        return grid

    # -- pictures and checkpoints --------------------------------------------------------
    def snapshot(self, filename, kind="surface", component="mx", step=-1, **kwargs):
        """PNG of `step`; see :func:`femag.plot.snapshot`."""
        from .plot import snapshot
        return snapshot(self, filename, kind=kind, component=component, step=step, **kwargs)

    def plot_table(self, filename, **kwargs):
        """PNG of m and energies against time; see :func:`femag.plot.plot_table`."""
        from .plot import plot_table
        return plot_table(self, filename, **kwargs)

    def restore(self, sim, step=-1, tolerance=1e-3):
        """Set sim.m and sim.t from `step` (collective on sim.comm). The simulation's mesh
        must have the same nodes (any number of ranks); `tolerance` is the accepted node
        mismatch relative to the smallest saved node spacing."""
        from mpi4py import MPI
        from scipy.spatial import cKDTree
        t, _ = self._step(step)
        points, m = self.points(), self.array("m", step)
        tree = cKDTree(points)
        spacing = tree.query(points[: min(len(points), 1000)], k=2)[0][:, 1].min()
        dist, idx = tree.query(sim.node_coordinates())
        worst = sim.comm.allreduce(float(dist.max()) if len(dist) else 0.0, op=MPI.MAX)
        if worst > tolerance * spacing:
            raise ValueError(f"the simulation's mesh does not match the saved one (a node is "
                             f"{worst:.3g} m from the nearest saved node)")
        sim.set_m(m[idx], normalize=False)
        sim.t = t
        return sim

    def __repr__(self):
        return (f"Run({self.folder!r}: {len(self.table.get('t [s]', []))} table rows, "
                f"{len(self)} ParaView steps, arrays {self.fields})")


def load(folder):
    """Open a femag output folder: :class:`Run` with .table, .times, .mesh(step), .snapshot."""
    return Run(folder)
