"""The stage runner: one directory per stage, skipped when its stamp says it is up to date.

:class:`PipelineContext` carries the configuration, the run directory and the results of the stages run
so far; :meth:`PipelineContext.run_stage` checks the stage's stamp, runs the stage body into a clean
directory when needed, and writes the stamp only after the body succeeded (an interrupted stage re-runs).
Each stage that runs logs its expected time first: the time of its previous run (read from the stamp it
replaces) or, for a first run, its wall-clock budget, with the clock time it should end by (``ETA``).

Example:
    >>> import tempfile, pathlib
    >>> from caloforge.pipeline.config import PipelineConfig
    >>> ctx = PipelineContext(PipelineConfig(), pathlib.Path(tempfile.mkdtemp()), progress=False)
    >>> def body(directory):
    ...     (directory / "a.txt").write_text("hello")
    ...     return ["a.txt"], {"n": 1}
    >>> ctx.run_stage("demo", {"x": 1}, [], body).skipped
    False
    >>> ctx.run_stage("demo", {"x": 1}, [], body).skipped
    True
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from caloforge.pipeline.config import PipelineConfig
from caloforge.pipeline.stamp import StageStamp, input_key, read_stamp, up_to_date, write_stamp

__all__ = ["PipelineContext", "StageBody", "StageResult"]

logger = logging.getLogger(__name__)

#: A stage body: writes into the (clean) stage directory, returns (outputs relative to it, info).
StageBody = Callable[[Path], tuple[list[str], dict[str, Any]]]


@dataclass(frozen=True)
class StageResult:
    """One stage's outcome.

    Attributes:
        name: Stage name, also its directory below the run directory (``train/vae``).
        directory: The stage directory.
        key: Input key the outputs correspond to.
        skipped: The stage was up to date and did not run.
        seconds: Wall time of the run that produced the outputs, s.
        outputs: Output paths relative to ``directory``.
        info: The stage's small results (times, metrics, file names).
        error: Why an optional stage failed (``None``: it succeeded); failed stages keep no stamp.
    """

    name: str
    directory: Path
    key: str
    skipped: bool
    seconds: float
    outputs: list[str]
    info: dict[str, Any]
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The stage produced its outputs."""
        return self.error is None

    def path(self, output: str) -> Path:
        """Absolute path of one of the outputs."""
        return self.directory / output


@dataclass
class PipelineContext:
    """State of a pipeline run.

    Attributes:
        config: The pipeline configuration.
        run_dir: The run directory.
        force: Re-run every stage even when up to date.
        progress: Show progress bars inside stages.
        results: Results by stage name, in run order.
        n_stages: Stages planned (for the ``[i/n]`` progress lines; 0: unknown).
    """

    config: PipelineConfig
    run_dir: Path
    force: bool = False
    progress: bool = True
    results: dict[str, StageResult] = field(default_factory=dict)
    n_stages: int = 0

    def _tag(self, name: str) -> str:
        index = len(self.results) + 1
        return f"[{index}/{self.n_stages}] {name}" if self.n_stages else f"[{name}]"

    def keys(self, names: Sequence[str]) -> list[str]:
        """Input keys of already-run stages (to chain into a downstream key)."""
        return [self.results[n].key for n in names]

    def run_stage(
        self,
        name: str,
        settings: Any,
        upstream: Sequence[str],
        body: StageBody,
        *,
        optional: bool = False,
        budget_s: float | None = None,
    ) -> StageResult:
        """Runs ``body`` in ``run_dir/name`` unless that stage is up to date.

        Arguments:
            name: Stage name (``data``, ``train/vae``, ...).
            settings: JSON-able settings that determine the outputs.
            upstream: Names of the stages whose outputs this one reads.
            body: The stage's work.
            optional: A failure is logged and recorded in the result (and the report) instead of raised.
            budget_s: The stage's wall-clock budget, s, if it has one (for the ETA line only).

        Returns:
            The :class:`StageResult` (from the stamp when skipped).

        Raises:
            Exception: Whatever the body of a non-optional stage raises; the stage keeps no stamp and re-runs
                next time.
        """
        directory = self.run_dir / name
        key = input_key(settings, self.keys(upstream))
        stamp = read_stamp(directory)
        if not self.force and stamp is not None and up_to_date(directory, key):
            logger.info("%s: up to date (finished %s), skipped", self._tag(name), stamp.finished)
            result = StageResult(name, directory, key, True, stamp.seconds, stamp.outputs, stamp.info)
        elif optional:
            try:
                result = self._execute(name, directory, key, body, _expected(stamp, budget_s))
            except Exception as err:  # noqa: BLE001  (optional stage: recorded, reported, retried next run)
                logger.warning("%s failed: %s: %s", self._tag(name), type(err).__name__, err)
                result = StageResult(name, directory, key, False, 0.0, [], {}, f"{type(err).__name__}: {err}")
        else:
            result = self._execute(name, directory, key, body, _expected(stamp, budget_s))
        self.results[name] = result
        return result

    def _execute(self, name: str, directory: Path, key: str, body: StageBody, expected: str = "") -> StageResult:
        logger.info("%s: running%s", self._tag(name), expected)
        if directory.exists():
            shutil.rmtree(directory)
        directory.mkdir(parents=True)
        start = time.perf_counter()
        outputs, info = body(directory)
        seconds = time.perf_counter() - start
        missing = [o for o in outputs if not (directory / o).exists()]
        if missing:
            msg = f"stage {name} did not produce {missing}"
            raise RuntimeError(msg)
        write_stamp(directory, StageStamp(name, key, list(outputs), seconds, info))
        logger.info("%s: done in %.1f s", self._tag(name), seconds)
        return StageResult(name, directory, key, False, seconds, list(outputs), info)


def _expected(stamp: StageStamp | None, budget_s: float | None, now: float | None = None) -> str:
    """`` (previous run 312 s, ETA 14:05:12)``: the expected duration and end of a stage ('' if unknown).

    The previous run's time (from the stamp being replaced) is capped by the budget; without a previous
    run the budget is the estimate.

    Example:
        >>> _expected(None, None)
        ''
        >>> _expected(None, 90.0, now=0.0).startswith(" (budget 90 s, ETA ")
        True
    """
    parts, seconds = [], None
    if stamp is not None and stamp.seconds > 0:
        parts.append(f"previous run {stamp.seconds:.0f} s")
        seconds = stamp.seconds
    if budget_s is not None:
        parts.append(f"budget {budget_s:.0f} s")
        seconds = budget_s if seconds is None else min(seconds, budget_s)
    if seconds is None:
        return ""
    end = time.localtime((time.time() if now is None else now) + seconds)
    return f" ({', '.join(parts)}, ETA {time.strftime('%H:%M:%S', end)})"
