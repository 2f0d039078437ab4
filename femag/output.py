"""Run output: one folder per run, safe against a run killed at any moment.

A folder written by :class:`Output` (``sim.save("out/")`` or ``sim.run(..., output="out/")``)::

    out/table.csv         one row per save: t [s], mx, my, mz, E_total [J], E_<term> [J], ...
    out/fields.xdmf       the ParaView time series (open this one)
    out/fields/mesh.h5    nodes (m), tetrahedra, region tag per cell
    out/fields/step_000012.h5   m, M (A/m), |m| and requested fields H_<term> (A/m) at one time
    out/info.json         start/end time, versions, materials, terms, success
    out/log.txt           one line per save

Why not ``dolfinx.io.XDMFFile``: it keeps one HDF5 file open for the whole run, and a
run killed by SIGKILL (queue time limit, OOM killer) leaves that file unreadable —
every saved step is lost (measured with DOLFINx 0.5.2). It also writes one temporal
collection per function, which ParaView shows as separate blocks (``region`` could not
threshold ``m``) and meshio cannot read. Here every save is a new HDF5 file written
under a temporary name and renamed when complete, then the XDMF text is rewritten the
same way, so a killed run leaves exactly the steps saved before the kill. One file per
step is what OOMMF (.omf) and mumax3 (.ovf) users already know.

The nodal values are gathered to rank 0, which writes all files (global node order =
DOLFINx's global P1 numbering, so 1 and 2 ranks give the same data in a different
order). Collective: every rank calls every method.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import sys

import numpy as np
import ufl
from mpi4py import MPI

from . import compat

TABLE = "table.csv"
INFO = "info.json"
LOG = "log.txt"
SERIES = "fields.xdmf"
FIELD_DIR = "fields"
MESH_FILE = "mesh.h5"
#: Files and folders femag writes; overwrite=True removes only these.
OWN_FILES = (TABLE, INFO, LOG, SERIES, FIELD_DIR)


# --- small collective helpers --------------------------------------------------------
def on_rank0(comm, work):
    """Run work() on rank 0; re-raise its error on every rank (so no rank waits forever)."""
    result, error = None, None
    if comm.rank == 0:
        try:
            result = work()
        except Exception as exc:  # re-raised on every rank below
            error = exc
    error = comm.bcast(error, root=0)
    if error is not None:
        raise error
    return result


def gather_rows(comm, local):
    """Concatenate each rank's rows (n_r, ...) in rank order on rank 0; None elsewhere."""
    local = np.ascontiguousarray(local)
    counts = comm.gather(local.size, root=0)
    if comm.rank != 0:
        comm.Gatherv(local, None, root=0)
        return None
    out = np.empty(sum(counts), dtype=local.dtype)
    comm.Gatherv(local, (out, counts), root=0)
    return out.reshape((-1,) + local.shape[1:])


def gather_mesh(sim):
    """(points (n, 3) m, tetrahedra (N, 4) int64, region (N,) int32) on rank 0, else Nones.

    Nodes are the P1 nodes in DOLFINx's global order (owned ranges in rank order), so the
    gathered owned nodal values of any P1 Function line up with `points`."""
    V = sim.V
    imap = V.dofmap.index_map
    tdim = sim.mesh.mesh.topology.dim
    n_cells = sim.mesh.mesh.topology.index_map(tdim).size_local
    local_cells = compat.cell_dofs(V).reshape(-1, 4)[:n_cells]
    cells = np.asarray(imap.local_to_global(local_cells.reshape(-1)), dtype=np.int64)
    region_f = sim.params.region
    tags = region_f.x.array[compat.cell_dofs(region_f.function_space)[:n_cells]]
    points = gather_rows(sim.comm, sim.node_coordinates()[: sim.n_owned].astype(np.float64))
    cells = gather_rows(sim.comm, cells.reshape(-1, 4))
    tags = gather_rows(sim.comm, np.rint(tags).astype(np.int32))
    return points, cells, tags


def nodal_ms(sim):
    """Ms at the P1 nodes (A/m), owned nodes: ∫Ms φ_i dx / ∫φ_i dx (volume-weighted where
    regions meet, the weighting of the lumped field)."""
    v = ufl.TestFunction(sim.V)  # m's own space, so the entries line up with m's nodes
    ones = ufl.as_vector((1.0, 1.0, 1.0))
    num = compat.assemble_vector(compat.dolfinx.fem.form(sim.params.Ms * ufl.inner(ones, v) * ufl.dx))
    den = compat.assemble_vector(compat.dolfinx.fem.form(ufl.inner(ones, v) * ufl.dx))
    n = 3 * sim.n_owned
    return num.array[:n:3] / den.array[:n:3]


def write_atomic(path, data, mode="w"):
    """Write text/bytes to `path` via a temporary file and os.replace (never half-written)."""
    tmp = path + ".tmp"
    with open(tmp, mode) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _h5_atomic(path, arrays):
    import h5py
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        for name, value in arrays.items():
            f.create_dataset(name, data=value)
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fmt(value):
    return repr(float(value))  # shortest text that reads back to the same float


def prepare_folder(comm, path, overwrite):
    """Create `path`; an existing folder with files needs overwrite=True, which removes
    only the files femag writes (OWN_FILES)."""
    def work():
        if os.path.exists(path) and not os.path.isdir(path):
            raise NotADirectoryError(f"output path {path!r} exists and is not a folder")
        existing = os.listdir(path) if os.path.isdir(path) else []
        if existing and not overwrite:
            raise FileExistsError(
                f"output folder {path!r} is not empty ({len(existing)} entries); choose a new "
                f"folder or pass overwrite=True to replace femag's files in it")
        for name in existing:
            if name in OWN_FILES or name.endswith(".tmp"):
                full = os.path.join(path, name)
                shutil.rmtree(full) if os.path.isdir(full) else os.remove(full)
        os.makedirs(os.path.join(path, FIELD_DIR), exist_ok=True)
    on_rank0(comm, work)


def versions():
    """Versions of femag and the libraries it runs on (for info.json)."""
    import petsc4py
    from . import __version__ as femag_version
    return {"femag": femag_version, "dolfinx": compat.DOLFINX_VERSION,
            "petsc4py": petsc4py.__version__,
            "petsc": ".".join(str(v) for v in compat.PETSc.Sys.getVersion()),
            "numpy": np.__version__, "python": sys.version.split()[0],
            "mpi": MPI.Get_library_version().splitlines()[0].strip(" \x00")}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _temperature(sim):
    """Temperature in K if the simulation has one (LLB): a number, a callable of t (s)
    or a Function (its volume average); else None."""
    T = getattr(sim, "temperature", None)
    if T is None:
        return None
    if hasattr(T, "x") and hasattr(T, "function_space"):
        local = compat.dolfinx.fem.assemble_scalar(compat.dolfinx.fem.form(T * ufl.dx))
        return sim.comm.allreduce(local, op=MPI.SUM) / sim.volume
    if callable(T):
        return float(T(sim.t))
    return float(T)


class Output:
    """Writer for one run folder (collective: every rank creates it and calls write/close).

    Parameters
    ----------
    sim : femag.Simulation
    directory : str or path
        The run folder; created if missing.
    fields : sequence of str
        Extra ParaView fields: a term's name ("exchange" or "H_exchange") or "H_eff",
        written as H_<term> / H_eff in A/m. m, M (A/m), |m| and region are always written.
    overwrite : bool
        An existing non-empty folder is an error unless True (then only femag's own
        files in it are replaced).
    resume : bool
        Reopen an existing run folder and continue it: table rows and ParaView steps
        with t > `resume_time` (s; written after the checkpoint being resumed) are
        dropped, later saves are appended. Works on another number of ranks: new steps
        are written in the node order of the folder's mesh file.
    """

    def __init__(self, sim, directory, fields=(), overwrite=False, resume=False,
                 resume_time=None):
        self.sim = sim
        self.comm = sim.comm
        self.directory = str(directory)
        self.path = os.path.abspath(self.directory)
        if isinstance(fields, str):
            fields = (fields,)
        self.fields = {}  # output name -> name for sim.field
        for name in fields:
            key = "H_eff" if name in ("H_eff", "effective") else \
                (name if name.startswith("H_") else "H_" + name)
            known = ["H_eff"] + ["H_" + t.name for t in sim.terms]
            if key not in known:
                raise ValueError(f"unknown output field {name!r}; known: {', '.join(known)} "
                                 f"(add the term before creating the output)")
            self.fields[key] = key
        self._region_forms = self._region_average_forms(sim)
        self.columns = None
        self.steps = []  # (time in s, step file name)
        self.n_saves = 0
        self.closed = False
        self._table_fd = None
        self._ms = nodal_ms(sim)
        self._norm_form = None
        if sim.equation == "llb":
            self._norm_form = compat.dolfinx.fem.form(ufl.sqrt(ufl.dot(sim.m, sim.m)) * ufl.dx)
        if resume and overwrite:
            raise ValueError("an output is either resumed or overwritten, not both")
        points, cells, tags = gather_mesh(sim)
        order = gather_rows(self.comm, compat.p1_input_indices(sim.V)[: sim.n_owned])
        self.n_nodes = self.comm.allreduce(sim.n_owned, op=MPI.SUM)
        self.n_cells = self.comm.bcast(None if cells is None else len(cells), root=0)
        self._perm = None  # rank 0: new gathered order -> the folder's node order
        self._need_header = True
        resumed = None
        if resume:
            resumed = self._reopen(order, resume_time)
        else:
            prepare_folder(self.comm, self.path, overwrite)
            on_rank0(self.comm, lambda: _h5_atomic(
                os.path.join(self.path, FIELD_DIR, MESH_FILE),
                {"geometry": points, "topology": cells, "region": tags, "input_index": order}))
        self.info = {
            "name": sim.name, "start": datetime.datetime.now().astimezone().isoformat(),
            "end": None, "success": None, "saves": 0, "versions": versions(),
            "ranks": self.comm.size, "equation": sim.equation,
            "mesh": {"nodes": self.n_nodes, "tetrahedra": self.n_cells,
                     "regions": dict(sim.mesh.regions), "volume [m^3]": sim.volume},
            "materials": {self._region_name(tag): mat.as_dict()
                          for tag, mat in sim.params.by_tag.items()},
            "terms": [repr(t) for t in sim.terms], "fields": list(self.fields),
            "files": {"table": TABLE, "series": SERIES, "log": LOG}}
        if resumed is not None:
            self.info["start"] = resumed.get("start", self.info["start"])
            self.info["resumed"] = resumed.get("resumed", []) + [{
                "at": datetime.datetime.now().astimezone().isoformat(),
                "t [s]": resume_time, "ranks": self.comm.size, "saves kept": self.n_saves}]
        self._write_info()
        self.log(f"output {'resumed' if resume else 'opened'}: {self.n_nodes} nodes, "
                 f"{self.n_cells} tetrahedra, {self.comm.size} rank(s)"
                 + (f", {self.n_saves} saves up to t = {resume_time:.6e} s kept" if resume else ""))

    def _reopen(self, order, resume_time):
        """Resume: keep the folder's saves with t ≤ resume_time, drop later ones, and map
        this run's node order onto the folder's mesh file. Returns the old info dict."""
        import h5py
        if resume_time is None or not np.isfinite(resume_time):
            raise ValueError(f"resume needs the checkpoint time resume_time (s), got "
                             f"{resume_time!r}")
        limit = resume_time + 1e-9 * max(abs(resume_time), 1e-15)

        def work():
            table, series = os.path.join(self.path, TABLE), os.path.join(self.path, SERIES)
            mesh_file = os.path.join(self.path, FIELD_DIR, MESH_FILE)
            if not (os.path.isfile(table) and os.path.isfile(mesh_file)):
                raise FileNotFoundError(f"cannot resume {self.path!r}: no {TABLE} or "
                                        f"{FIELD_DIR}/{MESH_FILE} there (not a femag run folder)")
            with h5py.File(mesh_file, "r") as f:
                old_order = f["input_index"][...] if "input_index" in f else None
                n_old = len(f["geometry"])
            if n_old != self.n_nodes:
                raise ValueError(f"cannot resume {self.path!r}: its mesh has {n_old} nodes, "
                                 f"this one {self.n_nodes}")
            if old_order is not None and not np.array_equal(old_order, order):
                position = np.empty(len(order), dtype=np.int64)
                position[order] = np.arange(len(order))
                self._perm = position[old_order]
            with open(table) as f:
                lines = [line for line in f.read().splitlines() if line]
            header, rows = lines[0], [r for r in lines[1:] if float(r.split(",")[0]) <= limit]
            write_atomic(table, "\n".join([header] + rows) + "\n")
            steps = []
            if os.path.isfile(series):
                with open(series) as f:
                    text = f.read()
                names = re.findall(r'<Grid Name="(step_\d+)" GridType="Uniform">', text)
                times = [float(v) for v in re.findall(r'<Time Value="([^"]+)"/>', text)]
                steps = list(zip(times, [n + ".h5" for n in names]))
            kept = [(t, n) for t, n in steps if t <= limit]
            for _, name in steps[len(kept):]:
                path = os.path.join(self.path, FIELD_DIR, name)
                if os.path.exists(path):
                    os.remove(path)
            info = {}
            if os.path.isfile(os.path.join(self.path, INFO)):
                with open(os.path.join(self.path, INFO)) as f:
                    info = json.load(f)
            return header.split(","), kept, info
        columns, kept, info = self.comm.bcast(on_rank0(self.comm, work), root=0)
        self.columns, self.steps, self.n_saves = columns, kept, len(kept)
        self._need_header = False
        if self.comm.rank == 0:
            write_atomic(os.path.join(self.path, SERIES), self._xdmf())
        return info

    @staticmethod
    def _region_average_forms(sim):
        """{region name: ([∫m_x dx_r, ∫m_y dx_r, ∫m_z dx_r] forms, volume m³)} when the mesh
        has several regions (compiled once: sim.m_average(region) builds them per call)."""
        if len(sim.mesh.regions) < 2:
            return {}
        dx = ufl.Measure("dx", domain=sim.mesh.mesh, subdomain_data=sim.mesh.cell_tags)
        result = {}
        for name, tag in sim.mesh.regions.items():
            volume = sim.comm.allreduce(compat.dolfinx.fem.assemble_scalar(
                compat.dolfinx.fem.form(1.0 * dx(tag))), op=MPI.SUM)
            result[name] = ([compat.dolfinx.fem.form(sim.m[i] * dx(tag)) for i in range(3)],
                            volume)
        return result

    def _region_name(self, tag):
        names = [n for n, t in self.sim.mesh.regions.items() if t == tag]
        return names[0] if names else str(tag)

    # -- info and log ---------------------------------------------------------------
    def _write_info(self):
        text = json.dumps(_jsonable(self.info), indent=2)
        on_rank0(self.comm, lambda: write_atomic(os.path.join(self.path, INFO), text))

    def log(self, message):
        """Append a time-stamped line to log.txt (rank 0; collective)."""
        stamp = datetime.datetime.now().isoformat(timespec="seconds")

        def work():
            with open(os.path.join(self.path, LOG), "a") as f:
                f.write(f"{stamp} {message}\n")
        on_rank0(self.comm, work)

    # -- the table ----------------------------------------------------------------------
    def row(self, extra=None):
        """The table row at the current state: {column name with unit: value} (collective).

        Columns: t [s]; mx, my, mz (volume averages); m_norm and T [K] for LLB;
        E_total [J] and E_<term> [J]; max_torque [A/m] (max |m × H_eff|, unless `extra`
        gives it); mx_<region>, ... when there are several regions; then `extra`."""
        sim = self.sim
        extra = dict(extra or {})
        row = {"t [s]": sim.t}
        row.update(zip(("mx", "my", "mz"), sim.m_average()))
        if self._norm_form is not None:
            local = compat.dolfinx.fem.assemble_scalar(self._norm_form)
            row["m_norm"] = self.comm.allreduce(local, op=MPI.SUM) / sim.volume
        T = _temperature(sim)
        if T is not None:
            row["T [K]"] = T
        energies = sim.energies()
        row["E_total [J]"] = energies.pop("total")
        row.update({f"E_{k} [J]": v for k, v in energies.items()})
        if not any(k.startswith("max_torque") for k in extra):
            row["max_torque [A/m]"] = sim.torque()
        for name, (forms, volume) in self._region_forms.items():
            local = np.array([compat.dolfinx.fem.assemble_scalar(f) for f in forms])
            average = self.comm.allreduce(local, op=MPI.SUM) / volume
            row.update(zip((f"mx_{name}", f"my_{name}", f"mz_{name}"), average))
        for key, value in extra.items():
            if key in row:
                raise ValueError(f"extra table column {key!r} clashes with a standard column")
            row[key] = value
        return row

    def _check_columns(self, row):
        """Fix the header at the first save; later rows must have the same columns."""
        if self.columns is None:
            for name in row:
                if "," in name or "\n" in name:
                    raise ValueError(f"table column {name!r} must not contain commas or newlines")
            self.columns = list(row)
        elif list(row) != self.columns:
            raise ValueError(f"table columns changed between saves: {list(row)} instead of "
                             f"{self.columns} (pass the same extra columns at every save)")

    def _append_row(self, row):
        """Rank 0: header (first time) and one row, each line written whole and fsync'd."""
        if self._table_fd is None:
            self._table_fd = os.open(os.path.join(self.path, TABLE),
                                     os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            if self._need_header:
                self._write_line(",".join(self.columns))
        self._write_line(",".join(_fmt(row[c]) for c in self.columns))

    def _write_line(self, line):
        # one write() per line: a SIGKILL never leaves half a row behind
        data = (line + "\n").encode()
        while data:
            data = data[os.write(self._table_fd, data):]
        os.fsync(self._table_fd)

    # -- the ParaView series --------------------------------------------------------------
    def _step_arrays(self):
        """{dataset name: gathered array} on rank 0 (collective)."""
        sim = self.sim
        m = sim.nodal(sim.m).astype(np.float64)
        local = {"m": m, "M": m * self._ms[:, None], "m_norm": np.linalg.norm(m, axis=1)}
        for key in self.fields:
            local[key] = sim.nodal(sim.field(key)).astype(np.float64)
        arrays = {k: gather_rows(self.comm, v) for k, v in local.items()}
        if self._perm is not None and self.comm.rank == 0:  # resumed on other ranks
            arrays = {k: v[self._perm] for k, v in arrays.items()}
        return arrays

    def _xdmf(self):
        n, N = self.n_nodes, self.n_cells
        mesh = f"{FIELD_DIR}/{MESH_FILE}"

        def item(dims, ref, kind="Float"):
            return (f'<DataItem Dimensions="{dims}" NumberType="{kind}" Precision="'
                    f'{4 if kind == "Int" and ref.endswith("region") else 8}" '
                    f'Format="HDF">{ref}</DataItem>')

        def attribute(name, ref, vector, center="Node", dims=None, kind="Float"):
            dims = dims or (f"{n} 3" if vector else f"{n}")
            return (f'        <Attribute Name="{name}" AttributeType="'
                    f'{"Vector" if vector else "Scalar"}" Center="{center}">'
                    f'{item(dims, ref, kind)}</Attribute>')

        # only the temporal collection in the Domain, so ParaView shows one dataset with
        # every array; the first step holds the mesh, the others include it
        region = attribute("region", f"{mesh}:/region", False, "Cell", f"{N}", "Int")
        topology = (f'        <Topology TopologyType="Tetrahedron" NumberOfElements="{N}" '
                    f'NodesPerElement="4">{item(f"{N} 4", f"{mesh}:/topology", "Int")}'
                    f'</Topology>')
        geometry = (f'        <Geometry GeometryType="XYZ">'
                    f'{item(f"{n} 3", f"{mesh}:/geometry")}</Geometry>')
        include = ('        <xi:include xpointer="xpointer(/Xdmf/Domain/Grid[1]/Grid[1]/*'
                   '[self::Topology or self::Geometry])"/>')
        lines = ['<?xml version="1.0"?>',
                 '<Xdmf Version="3.0" xmlns:xi="http://www.w3.org/2001/XInclude">',
                 "  <Domain>",
                 f'    <Grid Name="{self.sim.name}" GridType="Collection" '
                 f'CollectionType="Temporal">']
        for i, (t, fname) in enumerate(self.steps):
            ref = f"{FIELD_DIR}/{fname}"
            lines += [f'      <Grid Name="{fname[:-3]}" GridType="Uniform">']
            lines += [topology, geometry] if i == 0 else [include]
            lines += [f'        <Time Value="{_fmt(t)}"/>',
                      attribute("m", f"{ref}:/m", True), attribute("M", f"{ref}:/M", True),
                      attribute("|m|", f"{ref}:/m_norm", False)]
            lines += [attribute(k, f"{ref}:/{k}", True) for k in self.fields]
            lines += [region, "      </Grid>"]
        lines += ["    </Grid>", "  </Domain>", "</Xdmf>", ""]
        return "\n".join(lines)

    # -- public -----------------------------------------------------------------------
    def write(self, extra=None):
        """Save the current state (collective): a table row, a ParaView step, a log line.

        `extra`: further table columns {"name [unit]": value} (same names at every save).
        Returns the row (dict, same on every rank)."""
        if self.closed:
            raise RuntimeError(f"output {self.directory!r} is closed")
        row = self.row(extra)
        self._check_columns(row)
        arrays = self._step_arrays()
        fname = f"step_{self.n_saves:06d}.h5"
        self.steps.append((self.sim.t, fname))

        def work():
            # step file complete before the XDMF names it; table row last
            _h5_atomic(os.path.join(self.path, FIELD_DIR, fname), arrays)
            write_atomic(os.path.join(self.path, SERIES), self._xdmf())
            self._append_row(row)
        on_rank0(self.comm, work)
        self.n_saves += 1
        self.log(f"save {self.n_saves - 1}: t = {self.sim.t:.6e} s, "
                 f"E_total = {row['E_total [J]']:.6e} J, "
                 f"<m> = ({row['mx']:.5f}, {row['my']:.5f}, {row['mz']:.5f})")
        return row

    def close(self, success=True):
        """Finish the run: info.json gets end time, number of saves and `success`."""
        if self.closed:
            return
        self.closed = True
        if self._table_fd is not None:
            os.close(self._table_fd)
            self._table_fd = None
        self.info.update(end=datetime.datetime.now().astimezone().isoformat(),
                         success=bool(success), saves=self.n_saves)
        self._write_info()
        self.log(f"output closed: {self.n_saves} saves, success={bool(success)}")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(success=exc_type is None)
        return False

    def __repr__(self):
        return f"Output({self.directory!r}, saves={self.n_saves}, fields={list(self.fields)})"
