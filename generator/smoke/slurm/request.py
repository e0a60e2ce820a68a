"""What a card's SLURM job asks for: its `smoke_test.resources` and the `slurm` settings, each once.

GPUs are one generic-resource line, `--gres=gpu[:TYPE]:N`, which every SLURM with GPUs accepts; a card
asking for none gets no GPU line (and its job hides the node's GPUs from itself: `job.job_main`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from generator.schema.smoke import SmokeResources
    from generator.settings import SlurmSettings


@dataclass(frozen=True)
class Request:
    """One card's job request, and the words to name it in a message."""

    resources: SmokeResources
    gpu_type: str | None
    partition: str | None

    @classmethod
    def of(cls, resources: SmokeResources, slurm: SlurmSettings) -> Request:
        return cls(resources, resources.gpu_type or slurm.gpu_type, slurm.partition)

    @property
    def gres(self) -> str | None:
        n = self.resources.gpus
        if not n:
            return None
        return f"gpu:{self.gpu_type}:{n}" if self.gpu_type else f"gpu:{n}"

    def describe(self) -> str:
        """`2 CPUs, 16 GB, 1 GPU (gpu:h100:1), 30 min` as asked."""
        r = self.resources
        gpus = f", {r.gpus} GPU(s) ({self.gres})" if r.gpus else ""
        return f"{r.cpus} CPU(s), {r.memory_gb} GB{gpus}, {r.time_minutes} min"

    @property
    def where(self) -> str:
        return f"partition '{self.partition}'" if self.partition else "the cluster's default partition"

    def parameters(self, name: str, folder: Path, slurm: SlurmSettings) -> dict[str, Any]:
        """submitit's SlurmExecutor parameters (sbatch's option names) for this job."""
        r = self.resources
        params: dict[str, Any] = {
            "job_name": name,
            "time": r.time_minutes,
            "cpus_per_task": r.cpus,
            "mem": f"{r.memory_gb}GB",
            "nodes": 1,
            "ntasks_per_node": 1,
            # the job's working directory: its run folder, not wherever kb was started (the project root
            # would be the first entry of the job's sys.path)
            "additional_parameters": {**slurm.extra, "chdir": str(folder)},
            "setup": list(slurm.setup),
        }
        if self.gres:
            params["gres"] = self.gres
        for key in ("partition", "account", "qos", "constraint"):
            if value := getattr(slurm, key):
                params[key] = value
        return params
