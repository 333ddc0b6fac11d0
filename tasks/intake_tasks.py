"""Preparing one shard output for assembly, on whichever worker made it.

Every sample's per-sample work (parse, hash, render, check, key, decontaminate, spill with its row) is
done once per shard, in parallel on the task runner. The pipeline asks each shard task to do it as soon as
its output is written (`with_intake`: no task run of its own, ~30 ms of orchestration per shard saved on
the flow, the server and the worker); `intake_task` prepares the outputs that come without (a cached
shard from a run with other assemble settings). Either way the prepared shard lies under its key, which covers
the shard (by its key), the code of `magnet_core.dataset`, and the settings the records depend on
(`IntakeSettings`: dedup, miss_func rendering, decontamination and the BFCL data's fingerprint). The
sizing measure and assembly then read only records (`magnet_core.dataset.prepared`).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from prefect import get_run_logger
from pydantic import BaseModel, ConfigDict

from magnet_core.dataset.records import SampleBatch
from magnet_core.domain import PreferencePair, Reject, Trajectory
from tasks.cache_keys import stage_cache_key
from tasks.intake_models import IntakeOutput, IntakeSettings
from tasks.options import stage_task
from tasks.outputs import StageOutput
from tasks.refs import read_model, ref_for_existing
from tasks.workspace import Workspace


class ShardSamples(BaseModel):
    """The sample-bearing part of any shard output (translate: rejects only; distill: all three)."""

    model_config = ConfigDict(extra="ignore")

    trajectories: list[Trajectory] = []
    pairs: list[PreferencePair] = []
    rejects: list[Reject] = []


def intake_key(output: StageOutput, settings: IntakeSettings) -> str:
    """The prepared shard's key: the output's key and the settings, under the dataset code's version."""
    return stage_cache_key("intake", {"output": output, "settings": settings})


def prepare_intake(output: StageOutput, settings: IntakeSettings, workspace: Workspace) -> IntakeOutput:
    """Prepare `output` for assembly, once: a prepared shard already on disk under its key is reused."""
    from magnet_core.dataset.prepared import prepare_shard
    from magnet_core.dataset.stage import contamination_check

    from tasks.synthesis_tasks import _executed

    _executed("intake")  # the body ran (a cache hit never gets here): tests count recomputation
    key = intake_key(output, settings)
    final = workspace.artifact_path("intake", key, suffix="")
    if not final.is_dir():  # written under a temporary name, renamed when whole: a kill leaves no half shard
        samples = read_model(output.ref, ShardSamples)
        batch = SampleBatch(samples.trajectories, samples.pairs, samples.rejects)
        del samples
        contamination_of, index_info = contamination_check(settings.assemble_config())
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
        try:
            prepare_shard(batch, tmp, mode=settings.miss_func_rendering, dedup=settings.dedup,
                          contamination_of=contamination_of, index_info=index_info)
            tmp.rename(final)
        except OSError:
            if not final.is_dir():
                raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return IntakeOutput(key=key, ref=ref_for_existing(final), settings=settings)


def with_intake(output: StageOutput, settings: IntakeSettings | None, workspace: Workspace) -> StageOutput:
    """`output` carrying its prepared shard, made by the task that made the output (no task run of its own,
    no second read of the shard on another worker). A failure here never fails the shard (its samples are
    written, possibly paid for): the output goes without, and the flow prepares it with `intake_task`."""
    if settings is None:
        return output
    try:
        return output.model_copy(update={"intake": prepare_intake(output, settings, workspace)})
    except Exception as error:  # noqa: BLE001 - see the docstring: the flow's intake task reports it
        get_run_logger().warning(f"{output.stage} shard {output.key}: preparing for assembly failed ({error!r}); "
                                 "the flow prepares it in an intake task")
        return output


def carried_intake(output: StageOutput, settings: IntakeSettings) -> IntakeOutput | None:
    """The prepared shard `output` carries, if it was made under these settings and code and is on disk."""
    carried = output.intake
    if carried is None or carried.key != intake_key(output, settings) or not Path(carried.ref.path).is_dir():
        return None
    return carried.model_copy(update={"settings": settings})


@stage_task("intake")
def intake_task(output: StageOutput, settings: IntakeSettings, workspace: Workspace) -> IntakeOutput:
    """For an output that came without its prepared shard (made by an earlier run, or preparing failed)."""
    from tasks.synthesis_tasks import _executed

    _executed("intake_task")  # tests tell a fallback task from a shard task's own preparation
    return prepare_intake(output, settings, workspace)
