"""PETSc options that femag supplies as defaults without overriding the user's."""
from __future__ import annotations

from petsc4py import PETSc


def with_default_options(prefix, defaults, action):
    """Run action() with `defaults` ({key: value}) in PETSc's options database under
    `prefix` wherever the user set nothing (e.g. on the command line or in
    PETSC_OPTIONS); returns action()'s result and leaves the database as it was."""
    opts = PETSc.Options()
    ours = [key for key in defaults if not opts.hasName(prefix + key)]
    for key in ours:
        opts[prefix + key] = defaults[key]
    try:
        return action()
    finally:
        for key in ours:
            opts.delValue(prefix + key)


def default_amg():
    """"hypre" (BoomerAMG) when this PETSc has hypre, else "gamg"."""
    return "hypre" if PETSc.Sys.hasExternalPackage("hypre") else "gamg"


#: AMG settings for 3D P1 Laplacians (measured on a 27k-node sphere: HMIS coarsening
#: with ext+i interpolation and ≤ 4 weights per row halves the CG time against
#: BoomerAMG's defaults, whose coarse levels fill up in 3D). Options the user sets in the
#: PETSc database under the solver's prefix take precedence.
AMG_OPTIONS = {
    "hypre": {"pc_hypre_boomeramg_coarsen_type": "HMIS",
              "pc_hypre_boomeramg_interp_type": "ext+i",
              "pc_hypre_boomeramg_P_max": 4,
              "pc_hypre_boomeramg_strong_threshold": 0.25},
    "gamg": {"pc_gamg_threshold": 0.02, "pc_gamg_agg_nsmooths": 1},
}
