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
