"""What a VM image release did, step by step, on either API (``release_image_version``).

The steps, in order: ``wait-idle`` (the ingestion API only: no other submission of the product
running), ``add`` (the version added to the draft or the offer), ``preview`` (published to
preview; on the CPP API, published and waiting for the publisher's review) and ``live``. A target
below live leaves the later steps out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["Release", "ReleaseStep"]


@dataclass(frozen=True)
class ReleaseStep:
    """One step of a release and how it went.

    Attributes:
        name: ``add``, ``wait-idle``, ``preview`` or ``live``.
        outcome: ``done`` (done by this call), ``already-done`` (found done: nothing was sent
            for it), or ``running`` (under way, in a release reported as progress or carried by
            the error that stopped it).
        job_id: the ingestion job (or CPP operation) the step started, known as soon as it
            started: give it to ``cancel_job`` to stop a publish. None for a step with none.
        status: the last status of that job or operation, as the service sent it ("" when none).

    """

    name: str
    outcome: str
    job_id: Optional[str] = None
    status: str = ""

    @property
    def already_done(self) -> bool:
        """True when the step was found done and nothing was sent for it."""
        return self.outcome == "already-done"


@dataclass(frozen=True)
class Release:
    """A release so far, or as it ended: its steps, in the order they were taken.

    Run the same release again after any failure or interruption and it continues where the
    product stands: a step found done is ``already-done``, so a release already live is reads only.
    """

    steps: tuple[ReleaseStep, ...] = ()

    @property
    def job_ids(self) -> tuple[str, ...]:
        """The ids of the jobs (or operations) this release started, in order."""
        return tuple(step.job_id for step in self.steps if step.job_id)

    @property
    def current(self) -> Optional[ReleaseStep]:
        """The step under way (its ``job_id`` is what to cancel), or None."""
        running = [step for step in self.steps if step.outcome == "running"]
        return running[-1] if running else None

    @property
    def changed(self) -> bool:
        """True when this call sent anything: some step was not found already done."""
        return any(not step.already_done and step.job_id for step in self.steps)

    @property
    def is_terminal(self) -> bool:
        """True when no step is under way (the progress display's end of a line)."""
        return self.current is None

    def _progress_line(self) -> str:
        """Return the latest step as one line: ``preview: running (job <id>: running)``."""
        if not self.steps:
            return "release: starting"
        step = self.steps[-1]
        text = _job_text(step) or step.status  # wait-idle: "2 running", with no job of its own
        return f"{step.name}: {step.outcome}" + (f" ({text})" if text else "")

    def step(self, name: str) -> Optional[ReleaseStep]:
        """Return the step called ``name``, or None when the release did not take it."""
        return next((step for step in self.steps if step.name == name), None)

    def _repr_html_(self) -> str:
        from ._html import badge, escape, steps  # noqa: PLC0415 - loaded only when displayed

        phases = {"done": "succeeded", "already-done": "canceled", "running": "pending"}
        return steps(
            (
                step.name,
                badge(step.outcome, phases.get(step.outcome, "pending")),
                None,
                [(None, text)] if (text := _job_text(step)) else [],
            )
            for step in self.steps
        ) or escape("no step taken")


def _job_text(step: ReleaseStep) -> str:
    if not step.job_id:
        return ""
    return f"job {step.job_id}" + (f": {step.status}" if step.status else "")
