"""femag: finite-element micromagnetics on unstructured meshes (DOLFINx + PETSc + MPI).

    import femag
    mesh = femag.geometries.box(100e-9, 20e-9, 20e-9, h=2e-9)
    sim = femag.Simulation(mesh, femag.Material(Ms=8.6e5, A=1.3e-11, alpha=0.5))
    sim.add(femag.Exchange() + femag.Zeeman(H=(1e4, 0, 0)))
    sim.minimize()

All quantities in SI units: Ms in A/m, A in J/m, K in J/m³, D in J/m², H in A/m, t in s.
"""
from . import compat  # noqa: F401  (fails early with install instructions)
from .anisotropy import CubicAnisotropy, UniaxialAnisotropy
from .demag import Demag
from .dmi import BulkDMI, InterfacialDMI
from .exchange import Exchange
from .material import GAMMA_DEFAULT, MU0, Material, MaterialError
from .mesh import Mesh, MeshError
from .minimize import MinimizationError
from .simulation import Simulation
from .term import Term
from .two_temperature import TwoTemperatureModel  # noqa: F401  (sim.temperature = ...)
from . import mean_field  # noqa: F401  (femag.mean_field.equilibrium_m(T, material))
from .zeeman import Zeeman
from .load import load  # noqa: F401  (femag.load("out/"): a saved run)
from . import mesh as meshes  # noqa: F401
from . import states, walls  # noqa: F401,E402  (sim.m = femag.states.bloch_wall(...))
import femag.geometries as geometries  # noqa: F401,E402

__version__ = "0.1.0"

__all__ = ["Simulation", "Material", "MaterialError", "Mesh", "MeshError", "MinimizationError",
           "Exchange", "UniaxialAnisotropy", "CubicAnisotropy", "Zeeman", "InterfacialDMI",
           "BulkDMI", "Demag", "Term", "TwoTemperatureModel", "MU0", "GAMMA_DEFAULT", "geometries"]
