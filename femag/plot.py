"""Pictures: offscreen PyVista snapshots of m and matplotlib plots of the table.

    femag.plot.snapshot(sim, "m.png", kind="glyphs", component="mz")   # collective
    femag.plot.snapshot("out/", "final.png")                           # a saved run
    femag.plot.plot_table("out/", "table.png")

Lengths are drawn in nm; colours are m components (dimensionless), |m|, or any saved
array (vectors by magnitude, in their own units, e.g. H_exchange in A/m).
"""
from __future__ import annotations

import os

import numpy as np

KINDS = ("surface", "glyphs", "slice")
COMPONENTS = {"mx": 0, "my": 1, "mz": 2}


def grid_from_sim(sim, fields=()):
    """pyvista.UnstructuredGrid of the simulation's current state on rank 0, None on other
    ranks (collective): point arrays m, |m| and `fields` (term names or H_eff), cell array
    region. Points in m."""
    from .output import gather_mesh, gather_rows
    points, cells, tags = gather_mesh(sim)
    arrays = {"m": sim.nodal(sim.m)}
    for name in fields:
        key = name if name.startswith("H_") else "H_" + name
        arrays[key] = sim.nodal(sim.field(key))
    arrays = {k: gather_rows(sim.comm, np.ascontiguousarray(v, dtype=np.float64))
              for k, v in arrays.items()}
    if sim.comm.rank != 0:
        return None
    import pyvista
    grid = pyvista.UnstructuredGrid({pyvista.CellType.TETRA: cells}, points)
    for name, value in arrays.items():
        grid.point_data[name] = value
    grid.point_data["|m|"] = np.linalg.norm(arrays["m"], axis=1)
    grid.cell_data["region"] = tags
    grid.field_data["time [s]"] = np.array([sim.t])
    return grid


def _scalars(grid, component):
    """(array, label) to colour by."""
    if component in COMPONENTS:
        return grid.point_data["m"][:, COMPONENTS[component]], component
    if component in ("m_norm", "|m|"):
        return grid.point_data["|m|"], "|m|"
    for data in (grid.point_data, grid.cell_data):
        if component in data:
            values = np.asarray(data[component])
            return (np.linalg.norm(values, axis=1) if values.ndim == 2 else values), component
    raise ValueError(f"unknown component {component!r}: use mx, my, mz, |m| or one of "
                     f"{list(grid.point_data) + list(grid.cell_data)}")


def render(grid, filename, kind="surface", component="mx", normal="z", max_arrows=3000,
           window_size=(1000, 700), title=None):
    """Draw `grid` (as from :func:`grid_from_sim` or ``femag.load(...).mesh()``) offscreen
    into the PNG `filename`. kind: "surface" (outer surface coloured by the component),
    "glyphs" (arrows along m, at most `max_arrows`), "slice" (a plane through the centre
    with normal `normal`)."""
    import pyvista
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    pyvista.OFF_SCREEN = True
    grid = grid.copy()
    grid.points = grid.points * 1e9  # nm: VTK's camera and picking dislike 1e-8 coordinates
    values, label = _scalars(grid, component)
    if len(values) == grid.n_cells and len(values) != grid.n_points:
        grid.cell_data["_colour"] = values
    else:
        grid.point_data["_colour"] = values
    lo, hi = float(np.min(values)), float(np.max(values))
    clim = (-1.0, 1.0) if component in COMPONENTS else (lo, hi if hi > lo else lo + 1.0)
    # (no custom label fmt: it crashed VTK wheels loaded after DOLFINx, see femag.compat)
    bar = {"title": label, "vertical": True, "position_x": 0.86, "position_y": 0.15,
           "height": 0.7, "width": 0.08}
    plotter = pyvista.Plotter(off_screen=True, window_size=list(window_size))
    plotter.set_background("white")
    if kind == "surface":
        plotter.add_mesh(grid.extract_surface(algorithm="dataset_surface"), scalars="_colour", clim=clim, cmap="coolwarm",
                         scalar_bar_args=bar)
    elif kind == "slice":
        plotter.add_mesh(grid.outline(), color="black")
        plotter.add_mesh(grid.slice(normal=normal), scalars="_colour", clim=clim,
                         cmap="coolwarm", scalar_bar_args=bar)
    else:
        step = max(1, grid.n_points // max_arrows)
        cloud = pyvista.PolyData(grid.points[::step])
        cloud.point_data["m"] = grid.point_data["m"][::step]
        cloud.point_data["_colour"] = grid.point_data["_colour"][::step] \
            if "_colour" in grid.point_data else _scalars(grid, "mx")[0][::step]
        size = float(np.linalg.norm(np.ptp(grid.points, axis=0)))
        spacing = size / max(len(cloud.points) ** (1 / 3), 1.0)
        arrows = cloud.glyph(orient="m", scale=False, factor=0.8 * spacing,
                             geom=pyvista.Arrow())
        plotter.add_mesh(grid.outline(), color="black")
        plotter.add_mesh(arrows, scalars="_colour", clim=clim, cmap="coolwarm",
                         scalar_bar_args=bar)
    if title is None and "time [s]" in grid.field_data:
        title = f"t = {float(grid.field_data['time [s]'][0]):.4g} s"
    if title:
        plotter.add_text(title, font_size=10, color="black")
    plotter.show_axes()
    plotter.camera_position = "iso" if kind != "slice" or normal != "z" else "xy"
    plotter.screenshot(filename)
    plotter.close()
    return filename


def snapshot(source, filename, kind="surface", component="mx", step=-1, **kwargs):
    """PNG of the magnetisation. `source`: a Simulation (collective; rank 0 draws the
    current state), an output folder or a :class:`femag.load.Run` (its `step`).
    Returns `filename`. Keyword arguments go to :func:`render`."""
    from .simulation import Simulation
    if isinstance(source, Simulation):
        from .output import on_rank0
        grid = grid_from_sim(source)
        on_rank0(source.comm, lambda: render(grid, filename, kind, component, **kwargs))
        return filename
    from .load import Run
    run = source if isinstance(source, Run) else Run(source)
    return render(run.mesh(step), filename, kind, component, **kwargs)


def plot_table(source, filename, columns=None):
    """PNG with ⟨m⟩ (and m_norm) against t (ns) on top and the energies (J) below.

    `source`: an output folder or a :class:`femag.load.Run`; `columns` adds table
    columns to the top panel."""
    import matplotlib
    matplotlib.use("Agg")  # no display; before pyplot is imported anywhere
    import matplotlib.pyplot as plt
    from .load import Run
    run = source if isinstance(source, Run) else Run(source)
    if not run.table:
        raise ValueError(f"{run.folder!r} has no table rows to plot")
    t = run.column("t") * 1e9
    style = "o-" if len(t) < 30 else "-"
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    for name in ["mx", "my", "mz"] + (["m_norm"] if "m_norm" in run.table else []) \
            + list(columns or ()):
        top.plot(t, run.column(name), style, label=name, markersize=3)
    top.set_ylabel("⟨m⟩")
    top.legend(loc="best", fontsize=8)
    for name in run.table:
        if name.startswith("E_"):
            bottom.plot(t, run.table[name], style, label=name.split(" [")[0], markersize=3)
    bottom.set_ylabel("energy (J)")
    bottom.set_xlabel("t (ns)")
    bottom.legend(loc="best", fontsize=8)
    fig.suptitle(os.path.basename(os.path.abspath(run.folder)))
    fig.tight_layout()
    fig.savefig(filename, dpi=120)
    plt.close(fig)
    return filename
