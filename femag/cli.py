"""The ``femag`` command: run, check, mesh, info, plot (docs/cli.md).

    femag run problem.toml [--overwrite | --resume] [--quiet] [--out DIR]
    femag check problem.toml
    femag mesh box --lx "20 nm" --ly "10 nm" --lz "5 nm" --h "2 nm" -o box.msh
    femag mesh problem.toml -o problem.msh
    femag info out/
    femag plot out/ [-o out/plots]

Exit codes: 0 success, 2 bad input (config, units, mesh, materials, existing folder,
nothing to resume), 1 the run failed (no convergence, solver or internal error). Errors print one line ``femag: error: <message>`` on stderr (a
traceback only with --debug). Under MPI every rank validates the same file, only rank 0
prints, and every rank exits with the same code.
"""
from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import sys
import traceback
import warnings

from mpi4py import MPI

from .config import ConfigError
from .units import UnitError

LOG_FILE = "femag.log"
CHECKPOINTS = "checkpoints"  # the checkpoint folder inside the output folder
CONFIG_COPY = "config.toml"  # the config a run started with, kept in its folder


class InputError(ValueError):
    """Bad input found by the CLI itself (existing folder, nothing to resume...)."""


def _bad_input_types():
    from .material import MaterialError
    from .mesh import MeshError
    return (ConfigError, UnitError, MeshError, MaterialError, InputError, FileExistsError,
            NotADirectoryError, PermissionError)


def _collective_failures():
    """Failures of the numerics that every rank raises together (allreduced criteria)."""
    from .integrators import RelaxationError
    from .minimize import MinimizationError
    return (RelaxationError, MinimizationError)


def _say(comm, *args, **kwargs):
    if comm.rank == 0:
        print(*args, flush=True, **kwargs)


# --- output folder rules ------------------------------------------------------------------
def check_folder(comm, folder, overwrite, resume):
    """An existing non-empty folder needs --overwrite or --resume; --resume needs one.
    Decided on rank 0 and broadcast (every rank raises the same InputError)."""
    message = None
    if comm.rank == 0:
        exists = os.path.isdir(folder) and bool(os.listdir(folder))
        if os.path.exists(folder) and not os.path.isdir(folder):
            message = f"output path {folder!r} exists and is not a folder"
        elif resume and not exists:
            message = f"--resume: output folder {folder!r} does not exist (nothing to resume)"
        elif exists and not (overwrite or resume):
            message = (f"output folder {folder!r} already exists; pass --overwrite to replace "
                       f"it or --resume to continue it (or choose another with --out)")
    message = comm.bcast(message, root=0)
    if message:
        raise InputError(message)


# --- progress and log ------------------------------------------------------------------------
class Progress:
    """Progress on rank 0: a line per saved row (redrawn with \\r on a TTY), every line
    also appended to <out>/femag.log; `quiet` prints nothing (the log is still written)."""

    def __init__(self, comm, quiet=False, stream=None):
        self.comm, self.quiet = comm, quiet
        self.stream = stream or sys.stdout
        # mpirun forwards output through a pseudo-terminal that does not redraw: plain lines
        under_mpi = comm.size > 1 or "OMPI_COMM_WORLD_SIZE" in os.environ or "PMI_SIZE" in os.environ
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)()) and not under_mpi
        self.log_path = None
        self._stage = None
        self._open_line = False
        self._width = 0

    def log(self, message, echo=True):
        """Time-stamped line in femag.log (rank 0) and, unless quiet, on stdout."""
        if self.comm.rank != 0:
            return
        import datetime
        if self.log_path is not None:
            stamp = datetime.datetime.now().isoformat(timespec="seconds")
            with open(self.log_path, "a") as f:
                f.write(f"{stamp} {message}\n")
        if echo and not self.quiet:
            self._end_line()
            print(message, file=self.stream, flush=True)

    def _end_line(self):
        if self._open_line:
            print(file=self.stream, flush=True)
            self._open_line = False
            self._width = 0

    def start_stage(self, index, total, stage, t_start, t_end, t_now=None):
        """A run stage from t_start to t_end (s), continuing at t_now (s, resumed runs):
        the ETA extrapolates the wall time per simulated second since t_now."""
        import time
        t_now = t_start if t_now is None else t_now
        self._stage = (index, total, stage["name"], t_start, t_end, t_now, time.perf_counter())

    def row(self, row):
        """Called after every saved table row (collective data, rank 0 prints)."""
        if self._stage is None or self.comm.rank != 0:
            return
        import time
        index, total, name, t0, t1, t_now, wall0 = self._stage
        t = row["t [s]"]
        done = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
        rate = (time.perf_counter() - wall0) / (t - t_now) if t > t_now else float("nan")
        eta = rate * (t1 - t)
        line = (f"[{index + 1}/{total} {name}] t = {t:.4e} / {t1:.4e} s ({100 * done:5.1f} %)  "
                f"ETA {_hms(eta)}  dt = {row.get('dt [s]', 0.0):.3e} s  "
                f"max|m x H| = {row.get('max_torque [A/m]', float('nan')):.4g} A/m")
        self.log(line, echo=False)
        if self.quiet:
            return
        if self.tty:  # pad: a shorter line must cover the previous one
            print("\r" + line.ljust(self._width), end="", file=self.stream, flush=True)
            self._width = len(line)
            self._open_line = True
        else:
            print(line, file=self.stream, flush=True)

    def close(self):
        if self.comm.rank == 0 and not self.quiet:
            self._end_line()


def _hms(seconds):
    if seconds != seconds or seconds == float("inf"):
        return "--:--:--"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


# --- stages ----------------------------------------------------------------------------------
def _current(cfg, index, key, default):
    """The value of a persisting stage setting (field, temperature) in stage `index`: the
    last stage up to it that sets it, else `default`."""
    value = default
    for stage in cfg.stages[: index + 1]:
        if stage[key] is not None:
            value = stage[key]
    return value


def apply_stage_settings(cfg, sim, index):
    """Applied field and temperature of stage `index` (they persist to later stages)."""
    if "zeeman" in cfg.terms:
        import numpy as np
        H = np.asarray(_current(cfg, index, "field", cfg.terms["zeeman"]["H"]), dtype=float)
        sim.term("zeeman").set_field(tuple(H))
    T = _current(cfg, index, "temperature", cfg.temperature)
    if T is not None:
        sim.temperature = T


@contextlib.contextmanager
def _damping(sim, alpha):
    """Replace the material damping by `alpha` for one run stage (restored after)."""
    if alpha is None:
        yield
        return
    saved = sim.params.alpha.x.array.copy()
    sim.params.alpha.x.array[:] = alpha
    try:
        yield
    finally:
        sim.params.alpha.x.array[:] = saved


def _stage_row(sim, out, dt=0.0):
    """One table row outside sim.run, with the run's extra columns (same order)."""
    return out.write(extra={"max_torque [A/m]": sim.torque(), "dt [s]": dt})


class StageRunner:
    """Runs the stages of a config on a simulation, writing rows to `out` and checkpoints.

    A checkpoint's state (JSON) says where the run is: ``stage`` (index), ``stage_name``,
    ``done`` (the stage finished), ``t_start`` (s, the stage's start time; a run stage
    ends at t_start + duration and saves at t_start + k·save_every), ``dt`` (s, the
    integrator's step) and ``rows`` (table rows written)."""

    def __init__(self, cfg, sim, out, progress, checkpointer=None):
        self.cfg, self.sim, self.out, self.progress = cfg, sim, out, progress
        self.checkpointer = checkpointer
        self.dt = None

    def state(self, index, t_start, done):
        stage = self.cfg.stages[index]
        return {"stage": index, "stage_name": stage["name"], "done": bool(done),
                "t_start": float(t_start), "dt": self.dt, "rows": self.out.n_saves}

    def _checkpoint(self, index, t_start, done, force):
        if self.checkpointer is None:
            return
        state = self.state(index, t_start, done)
        (self.checkpointer.save if force else self.checkpointer.maybe_save)(state)

    def run(self, first=0, t_start=None, resumed=False):
        """Stages `first`.. (a resumed stage continues from sim.t inside it)."""
        t_start = self.sim.t if t_start is None else t_start
        for index in range(first, len(self.cfg.stages)):
            self.stage(index, t_start, resumed and index == first)
            self._checkpoint(index, self.sim.t, True, force=True)
            t_start = self.sim.t

    def stage(self, index, t_start, resumed):
        cfg, sim, out, progress = self.cfg, self.sim, self.out, self.progress
        stage = cfg.stages[index]
        total = len(cfg.stages)
        apply_stage_settings(cfg, sim, index)
        kind = stage["kind"]
        label = f"stage {index + 1}/{total} {stage['name']}"
        if kind != "run":
            progress.log(f"{label}: {kind} to max|m x H| < {stage['tol']:g} A/m")
            if kind == "minimize":
                pre = None if stage["preconditioner"] == "none" else stage["preconditioner"]
                result = sim.minimize(tol=stage["tol"], max_iterations=stage["max_iterations"],
                                      preconditioner=pre)
            else:
                result = sim.relax(tol=stage["tol"], alpha=stage["alpha"],
                                   max_time=stage["max_time"], max_steps=stage["max_steps"],
                                   integrator=stage["integrator"], verbose=False)
            progress.log(f"{label} done: {result}")
            following = cfg.stages[index + 1]["kind"] if index + 1 < total else None
            if following != "run":  # a run stage writes this state as its first row
                _stage_row(sim, out)
            return
        t_end = t_start + stage["duration"]
        every = stage["save_every"]
        progress.log(f"{label}: run to t = {t_end:.6g} s ({stage['integrator']}, save every "
                     f"{every:.3g} s)" + (f", resumed at t = {sim.t:.6g} s" if resumed else ""))
        progress.start_stage(index, total, stage, t_start, t_end, sim.t)
        options = {k: stage[k] for k in ("rtol", "atol", "dt_max") if stage[k] is not None}
        with _damping(sim, stage["alpha"]):
            if resumed and sim.t > t_start:
                # the rows up to the checkpoint's time are in the table: step without
                # output to the next save time, then save on the stage's own time grid
                k = math.floor((sim.t - t_start) / every * (1 + 1e-12)) + 1
                target = min(t_start + k * every, t_end)
                if self.dt:
                    options["dt"] = self.dt
                first = sim.run(target, output=None, integrator=stage["integrator"],
                                verbose=False, **options)
                self.dt = options["dt"] = first.rows[-1]["dt"] or self.dt
                if target >= t_end * (1 - 1e-12):
                    _stage_row(sim, out, self.dt or 0.0)
                    progress.log(f"{label} done")
                    return
            result = sim.run(t_end, save_every=every, output=out, integrator=stage["integrator"],
                             verbose=False, callback=self._after_save(index, t_start),
                             **options)
        progress.close()
        progress.log(f"{label} done: {result}")

    def _after_save(self, index, t_start):
        """run() callback at every save: remember dt (from the row), maybe checkpoint."""
        def callback(sim):
            self.dt = self.out.last_row.get("dt [s]") or self.dt
            self._checkpoint(index, t_start, False, force=False)
        return callback


# --- commands ------------------------------------------------------------------------------------
def _load_config(args):
    from . import config
    cfg = config.load(args.config)
    if getattr(args, "out", None):
        cfg.output["folder"] = os.path.abspath(args.out)
    return cfg


def _build(cfg, comm):
    """Mesh, simulation, initial state: all checks that can fail on bad input."""
    from . import config
    mesh = config.build_mesh(cfg, comm)
    sim = config.build_simulation(cfg, mesh)
    config.initial_state(cfg, sim)
    return sim


def _remove_own(comm, folder):
    """--overwrite: drop what the CLI writes besides femag.output's files."""
    def work():
        for name in (LOG_FILE, "plots", CHECKPOINTS):  # config.toml: rewritten below
            path = os.path.join(folder, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
    if comm.rank == 0:
        work()
    comm.barrier()


def _keep_config(comm, path, folder, resume):
    """Copy the config into the run folder; on --resume warn if it changed since."""
    if comm.rank != 0:
        return
    from .output import write_atomic
    with open(path, "rb") as f:
        text = f.read()
    copy = os.path.join(folder, CONFIG_COPY)
    if os.path.abspath(copy) == os.path.abspath(path):
        return
    if resume and os.path.isfile(copy):
        with open(copy, "rb") as f:
            if f.read() != text:
                warnings.warn(f"{path} differs from the config this run started with "
                              f"({copy}); the stages are taken from {path}")
        return
    write_atomic(copy, text, mode="wb")


def _resume_point(cfg, sim, folder, comm):
    """--resume: restore sim from the newest readable checkpoint (an unreadable newer one is
    skipped with a warning by femag.checkpoint.latest); returns (first stage, its start
    time in s, resumed inside it?, integrator dt in s or None)."""
    from . import checkpoint
    path = checkpoint.latest(os.path.join(folder, CHECKPOINTS), comm)
    if path is None:
        raise InputError(f"--resume: no usable checkpoint in {folder!r} (run it again with "
                         f"--overwrite)")
    try:
        state = checkpoint.restore(sim, path)
    except checkpoint.CheckpointError as err:  # e.g. written for another mesh
        raise InputError(f"--resume: {err}") from None
    index = state.get("stage")
    names = [s["name"] for s in cfg.stages]
    if not isinstance(index, int) or not 0 <= index < len(names) \
            or names[index] != state.get("stage_name"):
        raise InputError(f"--resume: the checkpoint {os.path.basename(path)!r} is from stage "
                         f"{state.get('stage_name')!r}, which this config does not have at "
                         f"position {index} (stages: {', '.join(names)}); was the config changed?")
    if state.get("done"):
        return index + 1, sim.t, False, state.get("dt")
    return index, float(state["t_start"]), True, state.get("dt")


def cmd_run(args, comm):
    cfg = _load_config(args)
    folder = cfg.output["folder"]
    check_folder(comm, folder, args.overwrite, args.resume)
    sim = _build(cfg, comm)  # everything that can be wrong with the input, before the folder
    point = _resume_point(cfg, sim, folder, comm) if args.resume else (0, sim.t, False, None)
    created = comm.bcast(not os.path.exists(folder) if comm.rank == 0 else None, root=0)
    from .output import Output

    progress = Progress(comm, quiet=args.quiet)

    class CliOutput(Output):
        last_row = {}

        def write(self, extra=None):
            row = super().write(extra)
            self.last_row = row
            progress.row(row)
            return row

    if args.overwrite:
        _remove_own(comm, folder)
    reopen = {"resume": True, "resume_time": sim.t} if args.resume else {}
    try:
        out = CliOutput(sim, folder, fields=cfg.output["fields"], overwrite=args.overwrite,
                        **reopen)
    except (_bad_input_types() + (OSError,)) as err:
        if created and comm.rank == 0:
            shutil.rmtree(folder, ignore_errors=True)
        if isinstance(err, _bad_input_types()):
            raise
        raise InputError(f"cannot write the output folder {folder!r}: "
                         f"{err.strerror or err}") from None
    progress.log_path = os.path.join(folder, LOG_FILE)
    _keep_config(comm, cfg.path, folder, args.resume)
    first, t_start, resumed, dt = point
    if not args.resume:
        resumed_at = ""
    elif first < len(cfg.stages):
        resumed_at = f" (resumed at stage {first + 1}, t = {sim.t:.6g} s)"
    else:
        resumed_at = f" (resumed: every stage had finished, t = {sim.t:.6g} s)"
    progress.log(f"femag run {cfg.path} on {comm.size} rank(s) -> {folder}{resumed_at}",
                 echo=args.resume)
    runner = StageRunner(cfg, sim, out, progress, _checkpointer(cfg, sim, folder))
    runner.dt = dt
    success = False
    try:
        runner.run(first, t_start, resumed)
        success = True
    finally:
        out.close(success=success)
        progress.log(f"finished: success={success}, t = {sim.t:.6g} s, {out.n_saves} rows")
    return 0


def _checkpointer(cfg, sim, folder):
    """femag.checkpoint.Checkpointer writing <folder>/checkpoints every
    [output] checkpoint_every seconds of wall time (and at the end of every stage)."""
    from . import checkpoint
    return checkpoint.Checkpointer(sim, os.path.join(folder, CHECKPOINTS),
                                   every=cfg.output["checkpoint_every"],
                                   keep=cfg.output["checkpoint_keep"])


def cmd_check(args, comm):
    cfg = _load_config(args)
    if "file" in cfg.geometry:  # a mesh file is cheap to check: load it, match regions
        from . import config
        with _quiet_stdout(True):
            config.check_regions(cfg, config.build_mesh(cfg, comm))
    _say(comm, f"{args.config}: ok ({len(cfg.stages)} stage(s), terms "
               f"{', '.join(cfg.terms)}, output {cfg.output['folder']})")
    return 0


def _cli_geometry(args, comm):
    """`femag mesh`: a config file, a .msh file or a builder name with --key value pairs."""
    from . import config
    target = args.source
    if target.endswith(".toml"):
        return _load_config(argparse.Namespace(config=target, out=None))
    if target.endswith(".msh"):
        raw = {"file": os.path.abspath(target)}
    else:
        raw = {"builder": target}
    extra = list(args.args)
    while extra:
        key = extra.pop(0)
        if not key.startswith("--") or not extra:
            raise ConfigError(f"mesh arguments come as --name value pairs, got {key!r}")
        raw[key[2:].replace("-", "_")] = _cli_value(extra.pop(0))
    geometry = config._geometry(raw, os.getcwd())
    return argparse.Namespace(geometry=geometry)


def _cli_value(text):
    """A command-line value as TOML ([0, 0, 1], true, 5e-9, "x") or else the plain string."""
    import tomllib
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def cmd_mesh(args, comm):
    from . import config
    cfg = _cli_geometry(args, comm)
    with _quiet_stdout(args.quiet):
        mesh = config.build_mesh(cfg, comm)
    if args.output:
        write_msh(mesh, args.output)
        _say(comm, f"wrote {args.output}")
    return 0


def write_msh(mesh, path):
    """Write a distributed femag Mesh as a Gmsh 2.2 ASCII file (rank 0 writes; collective).

    Nodes in metres (unit_length 1), tetrahedra with their physical volume tags/names."""
    from .material import Material
    from .output import gather_mesh, on_rank0, write_atomic
    from .simulation import Simulation
    sim = Simulation(mesh, Material(Ms=8e5))  # a carrier for the gathered P1 numbering
    points, cells, tags = gather_mesh(sim)
    names = {t: n for n, t in mesh.regions.items()}

    def work():
        import numpy as np
        p = points[cells]  # gmsh's convention: positive orientation
        det = np.einsum("ij,ij->i", p[:, 1] - p[:, 0], np.cross(p[:, 2] - p[:, 0], p[:, 3] - p[:, 0]))
        cells[det < 0, 2:4] = cells[det < 0, 3:1:-1]
        lines = ["$MeshFormat", "2.2 0 8", "$EndMeshFormat", "$PhysicalNames",
                 str(len(names))] + [f'3 {t} "{n}"' for t, n in sorted(names.items())]
        lines += ["$EndPhysicalNames", "$Nodes", str(len(points))]
        lines += [f"{i + 1} {x!r} {y!r} {z!r}" for i, (x, y, z) in enumerate(points)]
        lines += ["$EndNodes", "$Elements", str(len(cells))]
        lines += [f"{i + 1} 4 2 {tag} {tag} " + " ".join(str(int(v) + 1) for v in cell)
                  for i, (cell, tag) in enumerate(zip(cells, tags))]
        lines += ["$EndElements", ""]
        write_atomic(os.fspath(path), "\n".join(lines))
    on_rank0(mesh.comm, work)


def cmd_info(args, comm):
    if comm.rank == 0:
        print(describe_run(args.folder), flush=True)
    return 0


def describe_run(folder):
    """A few lines about a finished or running output folder (no MPI)."""
    import datetime
    from .load import Run
    if not os.path.isdir(folder):
        raise InputError(f"no output folder {folder!r}")
    run = Run(folder)
    info = run.info
    if not info and not run.table:
        raise InputError(f"{folder!r} is not a femag output folder (no info.json, no table.csv)")
    state = {True: "finished", False: "failed"}.get(info.get("success"), "running or killed")
    lines = [f"{folder}: {info.get('name', '?')}, {state}, {info.get('ranks', '?')} rank(s), "
             f"equation {info.get('equation', '?')}"]
    if info.get("start"):
        lines.append(f"  started {info['start']}" + (f", ended {info['end']}" if info.get("end")
                                                      else ""))
    mesh = info.get("mesh", {})
    if mesh:
        lines.append(f"  mesh: {mesh.get('nodes')} nodes, {mesh.get('tetrahedra')} tetrahedra, "
                     f"regions {', '.join(mesh.get('regions', {}))}, volume "
                     f"{mesh.get('volume [m^3]', 0):.4g} m^3")
    if info.get("terms"):
        lines.append(f"  terms: {', '.join(info['terms'])}")
    table = run.table
    n = len(table.get("t [s]", []))
    lines.append(f"  table: {n} rows, {len(table)} columns; ParaView steps: {len(run)}")
    if n:
        last = {k: v[-1] for k, v in table.items()}
        lines.append(f"  t = {table['t [s]'][0]:.6g} .. {last['t [s]']:.6g} s; last <m> = "
                     f"({last.get('mx', 0):.5f}, {last.get('my', 0):.5f}, "
                     f"{last.get('mz', 0):.5f}), E_total = {last.get('E_total [J]', 0):.6g} J, "
                     f"max|m x H| = {last.get('max_torque [A/m]', float('nan')):.4g} A/m")
    log = os.path.join(folder, LOG_FILE)
    if os.path.exists(log):
        age = datetime.datetime.now().timestamp() - os.path.getmtime(log)
        with open(log) as f:
            tail = f.read().strip().splitlines()[-1:]
        lines.append(f"  log updated {age:.0f} s ago: {tail[0] if tail else ''}")
    config = os.path.join(folder, CONFIG_COPY)
    if os.path.isfile(config):
        import tomllib
        try:
            with open(config, "rb") as f:
                stages = tomllib.load(f).get("stages", [])
            names = [f"{s.get('name', s.get('kind', '?'))}" for s in stages if isinstance(s, dict)]
            lines.append(f"  config: {CONFIG_COPY}, stages: {', '.join(names)}")
        except (tomllib.TOMLDecodeError, OSError, AttributeError):
            lines.append(f"  config: {CONFIG_COPY} (unreadable)")
    checkpoints = os.path.join(folder, CHECKPOINTS)
    if os.path.isdir(checkpoints):
        lines.append(f"  checkpoints: {len(os.listdir(checkpoints))} file(s)")
    return "\n".join(lines)


def cmd_plot(args, comm):
    if comm.rank != 0:
        return 0
    os.environ.setdefault("PYVISTA_OFF_SCREEN", "true")  # no display needed
    from .load import Run
    from .plot import plot_table, snapshot
    if not os.path.isdir(args.folder):
        raise InputError(f"no output folder {args.folder!r}")
    run = Run(args.folder)
    if not run.table:
        raise InputError(f"{args.folder!r} has no table rows to plot")
    target = args.output or os.path.join(args.folder, "plots")
    os.makedirs(target, exist_ok=True)
    made = [plot_table(run, os.path.join(target, "table.png"))]
    if len(run):
        made.append(snapshot(run, os.path.join(target, "snapshot.png"), step=-1))
    print("wrote " + ", ".join(made), flush=True)
    return 0


# --- entry point ------------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_stdout(quiet, stderr=False):
    """Send stdout (and stderr if asked) to /dev/null when `quiet`."""
    if not quiet:
        yield
        return
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
            (contextlib.redirect_stderr(sink) if stderr else contextlib.nullcontext()):
        yield


def _warning_printer(comm):
    """Warnings (e.g. a damaged checkpoint skipped) as one line on rank 0's stderr."""
    def show(message, category, filename, lineno, file=None, line=None):
        if comm.rank == 0:
            print(f"femag: warning: {message}", file=sys.stderr, flush=True)
    return show


def _parse(p, argv):
    if argv and argv[0] == "mesh":  # builder arguments (--lx ...) are free-form
        args, rest = p.parse_known_args(argv)
        args.args = rest
        return args
    return p.parse_args(argv)


def parser():
    p = argparse.ArgumentParser(prog="femag", allow_abbrev=False, description="Finite-element micromagnetics "
                                "(docs/cli.md). Exit codes: 0 ok, 2 bad input, 1 failure.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    r = sub.add_parser("run", help="run a config file (also under mpirun)")
    r.add_argument("config", help="problem.toml")
    mode = r.add_mutually_exclusive_group()
    mode.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    mode.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    r.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    r.add_argument("--out", help="output folder (overrides [output] folder)")
    r.set_defaults(func=cmd_run)
    c = sub.add_parser("check", help="validate a config file (and its .msh file) only")
    c.add_argument("config")
    c.set_defaults(func=cmd_check)
    m = sub.add_parser("mesh", allow_abbrev=False, help="build (builder --arg value ..., or problem.toml) or read "
                       "(.msh) a mesh, summarise it, optionally write it with -o")
    m.add_argument("source", help="builder name (box, disk, ...), problem.toml or mesh.msh")
    m.add_argument("-o", "--output", help="write the mesh to this .msh file (metres)")
    m.add_argument("--quiet", "-q", action="store_true")
    m.set_defaults(func=cmd_mesh)
    i = sub.add_parser("info", help="summarise an output folder")
    i.add_argument("folder")
    i.set_defaults(func=cmd_info)
    g = sub.add_parser("plot", help="table and last snapshot as PNG")
    g.add_argument("folder")
    g.add_argument("-o", "--output", help="folder for the PNGs (default <folder>/plots)")
    g.set_defaults(func=cmd_plot)
    return p


def main(argv=None, comm=None):
    """Entry point; returns the exit code (0 ok, 2 bad input, 1 internal failure)."""
    comm = comm or MPI.COMM_WORLD
    p = parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with _quiet_stdout(comm.rank != 0, stderr=True):  # argparse's messages: rank 0
            args = _parse(p, argv)
    except SystemExit as exc:  # argparse printed "femag: error: ..." (2) or --help (0)
        return exc.code
    bad_input = _bad_input_types()
    collective = True
    try:
        with _quiet_stdout(getattr(args, "quiet", False)), warnings.catch_warnings():
            warnings.showwarning = _warning_printer(comm)
            return args.func(args, comm) or 0
    except bad_input as err:
        code, message, trace = 2, str(err), traceback.format_exc()
    except KeyboardInterrupt:
        code, message, trace = 130, "interrupted", traceback.format_exc()
    except _collective_failures() as err:  # raised on every rank alike: no abort needed
        code, message, trace = 1, f"run failed: {err}", traceback.format_exc()
    except Exception as err:  # an internal failure: report it plainly, exit 1
        code, message, trace = 1, f"internal error ({type(err).__name__}): {err}", \
            traceback.format_exc()
        collective = False
    if args.debug:
        print(trace, file=sys.stderr, flush=True)
    if comm.rank == 0:
        for line in message.strip().splitlines() or [""]:
            print(f"femag: error: {line}", file=sys.stderr, flush=True)
    if code == 1 and comm.size > 1 and not collective:
        comm.Abort(1)  # a failure on one rank may leave the others inside a collective
    return code


if __name__ == "__main__":
    sys.exit(main())
