"""Developer sessions (``nox -s NAME``), running the same commands as the Makefile targets.

Sessions: ``tests`` (``make test``), ``lint`` (ruff), ``typing`` (mypy strict; ``make lint`` runs both),
``doctest`` (the ``Example:`` blocks of the library) and ``docs`` (the API reference, ``make docs``). ``nox`` reuses an existing environment with
``-r``; ``nox --no-venv`` runs in the current one (for example ``.venv``) without creating any.
"""

from __future__ import annotations

import nox

__all__ = ["docs", "doctest", "lint", "tests", "typing"]

nox.options.sessions = ["lint", "typing", "tests"]
nox.options.reuse_existing_virtualenvs = True

#: The pinned CPU wheel first, so that the package's torch range installs nothing bigger (as in the Makefile).
TORCH = "torch==2.13.0"
EXTRAS = ".[torch,eval,test,plot,flows,onnx,dask,tune,docs]"


def _install(session: nox.Session) -> None:
    if session.venv_backend == "none":
        return
    session.install(TORCH)
    session.install("-e", EXTRAS)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (``make test``); extra arguments go to pytest (``nox -s tests -- -x tests/data``)."""
    _install(session)
    session.run("python", "-m", "pytest", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff on the library, the tests and the benchmarks (first half of ``make lint``)."""
    if session.venv_backend != "none":
        session.install("ruff==0.17.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "tools", *session.posargs)


@nox.session
def typing(session: nox.Session) -> None:
    """mypy in strict mode on ``src/`` (second half of ``make lint``; settings in ``pyproject.toml``)."""
    _install(session)
    if session.venv_backend != "none":
        session.install("mypy==2.4.1")
    session.run("mypy", *session.posargs)


@nox.session
def doctest(session: nox.Session) -> None:
    """Only the docstring examples of the library (they also run as part of ``tests``)."""
    _install(session)
    session.run("python", "-m", "pytest", "-q", "src/caloforge", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """The API reference from the docstrings (``make docs``): ``build/api/index.html``."""
    _install(session)
    session.run("python", "tools/build_api_docs.py", "build/api", *session.posargs)
