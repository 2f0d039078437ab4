"""The builders. Arguments in metres; `h` is the target element size in metres."""
from __future__ import annotations

from mpi4py import MPI

from femag.mesh import MeshError, generate

#: Builders draw in nanometres.
NM = 1e-9


def _positive(**values):
    for name, value in values.items():
        if not (isinstance(value, (int, float)) and value > 0):
            raise MeshError(f"{name} must be a positive length in metres, got {value!r}")
        if value > 1e-3:
            raise MeshError(f"{name} = {value!r} m is larger than 1 mm: lengths are in metres "
                            f"(100 nm is 100e-9)")


def _tag(model, volumes, name="magnet", tag=1):
    model.occ.synchronize()
    model.addPhysicalGroup(3, list(volumes), tag)
    model.setPhysicalName(3, tag, name)


def box(lx, ly, lz, h, comm=MPI.COMM_WORLD, center=(0.0, 0.0, 0.0), name="magnet"):
    """A cuboid lx × ly × lz (m) centred at `center` (m), element size h (m)."""
    _positive(lx=lx, ly=ly, lz=lz, h=h)
    cx, cy, cz = (c / NM for c in center)

    def build(model):
        v = model.occ.addBox(cx - lx / NM / 2, cy - ly / NM / 2, cz - lz / NM / 2,
                             lx / NM, ly / NM, lz / NM)
        _tag(model, [v], name)

    return generate(build, h / NM, comm=comm, unit_length=NM, name="box")


def film(lx, ly, thickness, h, comm=MPI.COMM_WORLD, name="magnet"):
    """A thin film lx × ly × thickness (m) in the xy plane, centred at the origin."""
    return box(lx, ly, thickness, h, comm=comm, name=name)
