"""Turn a checked pipeline file into a `Pipeline`, and run one from Python in a single call."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from videoanalyst.pipeline.config import PipelineConfig, load_pipeline
from videoanalyst.pipeline.runner import Pipeline, RunReport


def build_pipeline(config: PipelineConfig) -> Pipeline:
    """The source built now (a missing input fails here, naming the YAML key); stages and sinks as factories."""
    settings = config.settings
    return Pipeline(
        source=config.source.factory()(),
        stages=[spec.factory() for spec in config.stages],
        sinks=[spec.factory(output_dir=settings.output) for spec in config.sinks],
        names=[spec.name for spec in [*config.stages, *config.sinks]],
        max_streams=settings.max_streams,
        batch_size=settings.batch_size,
        device=settings.device,
        progress=settings.progress,
        progress_interval=settings.progress_interval,
        output_dir=settings.output,
    )


def run_pipeline(pipeline: str | Path | Mapping[str, Any], overrides: list[str] | Mapping[str, Any] = (),
                 *, print_profile: bool = True, label: str | None = None) -> RunReport:
    """Load, check, build and run a pipeline file (or dict); print the per-stage profile; return the report.

    `label` names the pipeline in messages (as `load_pipeline`). Example:
    ``run_pipeline("pipelines/oracle_mot.yaml", {"output": "runs/demo"})``.
    """
    config = load_pipeline(pipeline, overrides, label)
    runner = build_pipeline(config)
    try:
        report = runner.run()
    finally:
        if runner.report is not None:
            _finish_report(runner.report, config, print_profile)
    return report


def _finish_report(report: RunReport, config: PipelineConfig, print_profile: bool) -> None:
    """Print the profile table and write its JSON when the pipeline asks for it; also after a failed run, but not
    when no frame went through (the set-up failed): a table of zeros says nothing."""
    if not any(report.frames.values()):
        return
    if print_profile:
        print(report.profiler.table())
    if config.settings.profile_json:
        report.profiler.write_json(config.settings.profile_json)
