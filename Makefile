# femag: the two commands of the README.
#   make demo  -- set up (Debian packages, .venv) and run the default example on 2 MPI ranks
#   make test  -- set up and run the test suite, serially and under mpirun -n 2
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
NP ?= 2
APT_PKGS := python3-dolfinx python3-petsc4py python3-mpi4py python3-gmsh python3-venv python3-dev openmpi-bin libopenmpi-dev
MPIRUN := mpirun --allow-run-as-root --oversubscribe -n $(NP)
export OMPI_MCA_rmaps_base_oversubscribe := 1
export PYVISTA_OFF_SCREEN := true
export OMP_NUM_THREADS := 1
# progress lines reach the log as they happen (a stalled MPI run shows where it stopped)
export PYTHONUNBUFFERED := 1

.PHONY: demo test test-serial test-mpi setup system clean

demo: setup
	$(MPIRUN) $(PY) -m femag.demo_default

test: setup test-serial test-mpi

test-serial:
	$(PY) -m pytest -q -x tests

test-mpi:
	timeout -k 30 2700 $(MPIRUN) $(PY) -m mpi4py -m pytest -q -x --capture=sys tests -p no:cacheprovider

setup: system $(VENV)/.installed

# System packages: installed if missing (root), otherwise print the exact command and stop.
system:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "femag needs Debian packages that are missing. Run:"; \
	    echo "  sudo apt-get install -y$$missing"; \
	    exit 1; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=23" 
	$(PY) -m pip install -q -e ".[test]" "numpy<2"
	touch $@

clean:
	rm -rf $(VENV) out
