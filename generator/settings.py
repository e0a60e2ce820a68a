"""Settings: the `kb` plugin's section of mkdocs.yml, read by both the plugin and the command line.

Every setting has its default here and nowhere else. `Project` resolves them to absolute paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from generator.exceptions import ConfigError
from generator.layout import Layout

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

CONFIG_FILE = "mkdocs.yml"


class LicensePolicy(BaseModel):
    """Licenses to flag on the page (a badge) or to refuse for publishing."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    flag: list[str] = []
    """SPDX ids shown with a badge (e.g. non-commercial licenses)."""
    refuse: list[str] = []
    """SPDX ids refused for publishing: a card under one fails `kb build`, `mkdocs build` and
    `kb check licenses` (shell patterns such as `CC-BY-NC-*` work in both lists)."""


GPU_TYPE = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
"""A GPU type as SLURM's GPU resources name it (`gpu:<type>:<count>`, e.g. `h100`)."""

SBATCH_FROM_CARD = {
    "gres": "smoke_test.resources.gpus and gpu_type (or the slurm.gpu_type setting)",
    "gpus": "smoke_test.resources.gpus",
    "gpus-per-node": "smoke_test.resources.gpus",
    "gpus-per-task": "smoke_test.resources.gpus",
    "gpus-per-socket": "smoke_test.resources.gpus",
    "time": "smoke_test.resources.time_minutes",
    "mem": "smoke_test.resources.memory_gb",
    "mem-per-cpu": "smoke_test.resources.memory_gb",
    "mem-per-gpu": "smoke_test.resources.memory_gb",
    "cpus-per-task": "smoke_test.resources.cpus",
    "partition": "slurm.partition",
    "account": "slurm.account",
    "qos": "slurm.qos",
    "constraint": "slurm.constraint",
    "array": "slurm.max_jobs (kb submits one job per card)",
    "output": "smoke_jobs_dir (kb reads the job's log there)",
    "error": "smoke_jobs_dir (kb reads the job's log there)",
    "chdir": "smoke_jobs_dir (the job runs in its folder)",
    "signal": "smoke_test.resources.time_minutes (kb reads a time limit from SLURM's own state)",
}
"""`#SBATCH` options that `slurm.extra` may not give, with where they come from instead: each is asked
once, from the card or a named setting (a second GPU request is "Invalid GRES specification")."""


class SlurmSettings(BaseModel):
    """Where `kb smoke --executor slurm` submits its jobs, and how long it waits for them."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    partition: str | None = None
    """SLURM partition (`--partition`); the cluster's default when unset."""
    account: str | None = None
    """SLURM account to charge (`--account`)."""
    qos: str | None = None
    """Quality of service (`--qos`)."""
    constraint: str | None = None
    """Node features the job needs (`--constraint`, e.g. `a100|h100`)."""
    gpu_type: str | None = Field(default=None, pattern=f"^{GPU_TYPE}$")
    """GPU type for cards that ask for GPUs without naming one (`smoke_test.resources.gpu_type`), as
    the cluster's GPU resources name it: `sinfo -o %G` shows `gpu:h100:4` for `h100`."""
    setup: list[str] = []
    """Shell lines run before each job (e.g. `module load cuda/12.4`). The job runs this Python
    (the project's virtualenv): the project and the virtualenv must be on a filesystem the compute
    nodes share."""
    extra: dict[str, str | int] = Field(default_factory=dict)
    """Further `#SBATCH` options by name without dashes (e.g. `{mail-type: FAIL}`). Options the card
    or another setting gives (GPUs, time, memory, CPUs, partition, ...) are refused here."""
    max_jobs: int = Field(default=16, ge=1)
    """Jobs of one run queued or running at once; the other cards wait their turn (keep it under the
    cluster's per-user job limit)."""
    poll_seconds: float = Field(default=10.0, gt=0)
    """How often the jobs' states are asked of SLURM (squeue; sacct where accounting is on)."""
    pending_minutes: float = Field(default=720.0, gt=0)
    """Longest a job may wait in the queue for a reason that can clear (other jobs, priority, a
    hold); then it is cancelled and its card reported failed. A job that can never start (it asks for
    more than the partition allows) is cancelled at once."""
    lost_seconds: float = Field(default=180.0, gt=0)
    """How long a job may be unknown to SLURM (or SLURM may not answer) before its card is reported
    lost; also how long a finished job's result may take to appear on the shared filesystem."""

    @field_validator("extra")
    @classmethod
    def _not_from_card(cls, extra: dict[str, str | int]) -> dict[str, str | int]:
        for key in extra:
            name = key.lstrip("-").replace("_", "-").lower()
            if name in SBATCH_FROM_CARD:
                raise ValueError(
                    f"'{key}' is not set here: kb asks for it from {SBATCH_FROM_CARD[name]}; "
                    f"remove '{key}' from slurm.extra"
                )
        return extra


class Settings(BaseModel):
    """The `kb` plugin's options in mkdocs.yml (`plugins: [kb: {...}]`)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    kb_dir: str = "kb"
    """Folder of the knowledge base (cards)."""
    templates_dir: str = "templates"
    """The product's Jinja templates."""
    template_overrides: str | None = None
    """A folder whose templates replace the product's ones of the same name."""
    artifacts_dir: str = "artifacts"
    """Build outputs kept between builds (PDFs, smoke reports)."""
    external_repos_dir: str = "external_repos"
    """Upstream repositories, cloned at their pinned commits."""
    pdf: bool = True
    """Render the PDF walkthroughs on `kb build` and plain `mkdocs build` (only cards that changed),
    copy them into the built site and link them from the pages. Off: no PDF is rendered or published."""
    pdf_on_serve: bool = False
    """Render PDFs during `mkdocs serve` too (off: editing stays fast)."""
    serve_refresh_s: float = Field(default=2.0, ge=0)
    """Under `mkdocs serve`, after a card's name or group changed: seconds per rebuild spent giving the
    other pages the new navigation (the changed pages are served first; each rebuild then refreshes
    this much of the rest, so a new save never waits for all of them)."""
    pdf_jobs: int = 0
    """Processes rendering PDFs; 0 = one per core."""
    permalink_templates: dict[str, str] = Field(default_factory=dict)
    """Per-host permalink patterns for code citations, e.g.
    `{"git.example.org": "{url}/src/commit/{commit}/{path}#L{start}-L{end}"}`."""
    license_policy: LicensePolicy = LicensePolicy()
    """Licenses to flag or refuse."""
    smoke_device: str = "auto"
    """Default device for `kb smoke`."""
    smoke_executor: Literal["inline", "local", "slurm"] = "inline"
    """Where `kb smoke` runs each card: `inline` in its own process, one after another; `local` one
    job per card in a subprocess (submitit's local executor: a card that crashes or hangs its process
    is reported failed, the others go on); `slurm` one job per card on a SLURM cluster."""
    smoke_max_jobs: int = 1
    """Jobs of the `local` executor running at once (each loads a model: keep it to the GPUs or the
    memory there is). The `slurm` executor's limit is `slurm.max_jobs`."""
    smoke_jobs_dir: str = f"{Layout.CACHE_FOLDER}/smoke-jobs"
    """Folder of the jobs' pickled inputs, results and logs (relative to the project)."""
    smoke_poll_seconds: float = 2.0
    """How often the jobs' results are looked for (SLURM itself is asked every `slurm.poll_seconds`)."""
    slurm: SlurmSettings = SlurmSettings()
    """The SLURM executor's settings (partition, account, ...)."""
    smoke_accept_reference_kernels: bool = True
    """The publishing gate accepts a smoke pass on the reference kernels (plain PyTorch standing in for
    mamba-ssm, on CPU). Off: such a card must pass again on its native kernels (on CUDA) to publish."""
    smoke_allowed_signers: str | None = None
    """An allowed-signers file (git's format: `name ssh-ed25519 AAAA...` a line) naming the keys whose
    signatures make a smoke report count for `kb build --require-smoke`. Without one, no report is
    verified. Trust-bearing: a pull request's CI reads it from the base branch (`KB_TRUSTED_REF`) or
    from a file outside the tree (`KB_ALLOWED_SIGNERS`); see SECURITY.md."""
    repo_mirrors: dict[str, str] = Field(default_factory=dict)
    """Where `kb repos sync` clones from instead of the forge, by URL prefix, for tests and offline use,
    e.g. `{"https://github.com/": "/srv/git-mirrors/"}`: a card's `repo.url` is always the forge's
    https URL. Trust-bearing like `smoke_allowed_signers`."""
    link_cache_max_age: int = 86400
    """Seconds an external link check result stays valid in the cache."""
    strict: bool = False
    """Treat warnings as errors in validation during `mkdocs build`."""


MKDOCS_OPTIONS = (
    "docs_dir",
    "site_dir",
    "site_url",
    "strict",
    "theme",
    "repo_url",
    "edit_uri",
    "site_name",
    "site_description",
)
"""The MkDocs options a project reads; where mkdocs.yml leaves one out, MkDocs' own default applies."""


DEFAULTS = Settings()
"""Every setting at its default: what other modules use where a setting is not given."""


@dataclass
class Project:
    """A knowledge-base project: the folder holding mkdocs.yml, with its settings resolved.

    The command line (`Project.load`) and the MkDocs plugin (`Project.from_mkdocs`) build it the same
    way: mkdocs.yml read by MkDocs' own YAML loader (so `!ENV` and `INHERIT` mean the same), each MkDocs
    option MkDocs' default where the file leaves it out (`docs_dir` is `docs`), the `kb` plugin's
    options validated by `Settings`.
    """

    root: Path
    settings: Settings
    mkdocs_config: dict[str, Any]
    """The options of `MKDOCS_OPTIONS`, as mkdocs.yml gives them or MkDocs' defaults."""

    @classmethod
    def load(cls, root: Path | None = None) -> Project:
        """The project at `root`, or the nearest one at or above the working directory."""
        root = (root or _find_root(Path.cwd())).resolve()
        config_path = root / CONFIG_FILE
        config: dict[str, Any] = {}
        if config_path.exists():
            config = _read_mkdocs_yml(config_path)
        return cls(root, settings_from_config(config, config_path), mkdocs_options(config))

    @classmethod
    def from_mkdocs(cls, config: MkDocsConfig, settings: Settings) -> Project:
        """The project of a MkDocs build (the plugin's route), from MkDocs' validated configuration."""
        path = config.config_file_path
        root = Path(path).resolve().parent if path else Path.cwd().resolve()
        # The file as the command line reads it, with the options MkDocs resolved (the `--strict` flag,
        # `-d SITE_DIR`) as this build uses them.
        raw = _read_mkdocs_yml(Path(path)) if path and Path(path).is_file() else {}
        resolved = {key: config[key] for key in ("docs_dir", "site_dir", "site_url", "strict")}
        return cls(root, settings, mkdocs_options({**raw, **resolved}))

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else self.root / p

    @cached_property
    def kb_dir(self) -> Path:
        return self.path(self.settings.kb_dir)

    @cached_property
    def templates_dir(self) -> Path:
        return self.path(self.settings.templates_dir)

    @cached_property
    def template_overrides(self) -> Path | None:
        return self.path(self.settings.template_overrides) if self.settings.template_overrides else None

    @cached_property
    def docs_dir(self) -> Path:
        return self.path(str(self.mkdocs_config["docs_dir"]))

    @cached_property
    def site_dir(self) -> Path:
        return self.path(str(self.mkdocs_config["site_dir"]))

    @cached_property
    def artifacts_dir(self) -> Path:
        return self.path(self.settings.artifacts_dir)

    @cached_property
    def external_repos_dir(self) -> Path:
        return self.path(self.settings.external_repos_dir)

    @cached_property
    def layout(self) -> Layout:
        """Every path of the project (cards, side files, clones, checkpoints, PDFs, reports, pages)."""
        return Layout(self.root, self.kb_dir, self.artifacts_dir, self.external_repos_dir)

    # The layout's folders most stages ask for, by their old names.
    @property
    def pdf_dir(self) -> Path:
        return self.layout.pdf_dir

    @property
    def smoke_dir(self) -> Path:
        return self.layout.smoke_dir

    def repo_dir(self, repo_name: str) -> Path:
        return self.layout.repo_dir(repo_name)

    def rel(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.root))
        except ValueError:
            return str(path)


def _find_root(start: Path) -> Path:
    """The nearest folder at or above `start` with mkdocs.yml or a kb/ folder."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_FILE).exists() or (folder / "kb").is_dir():
            return folder
    return start


def _read_mkdocs_yml(path: Path) -> dict[str, Any]:
    """mkdocs.yml as MkDocs reads it (its YAML loader: `!ENV`, `!!python/name:`, `INHERIT`)."""
    from mkdocs.exceptions import ConfigurationError
    from mkdocs.utils.yaml import yaml_load
    from yaml import YAMLError

    try:
        with path.open("rb") as fh:
            data = yaml_load(fh)
    except (OSError, YAMLError, ConfigurationError, ImportError) as exc:
        raise ConfigError(f"{path}: cannot read the MkDocs configuration: {exc}") from exc
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: the MkDocs configuration must be a mapping of options")
    return dict(data or {})


def mkdocs_options(config: dict[str, Any]) -> dict[str, Any]:
    """The options of `MKDOCS_OPTIONS` from a mkdocs.yml mapping, MkDocs' defaults for the missing."""
    from mkdocs.config.defaults import MkDocsConfig

    defaults = {key: getattr(MkDocsConfig, key).default for key in MKDOCS_OPTIONS}
    options = {key: config[key] if config.get(key) is not None else defaults[key] for key in MKDOCS_OPTIONS}
    site_url = options["site_url"]
    if isinstance(site_url, str) and site_url and not site_url.endswith("/"):
        options["site_url"] = site_url + "/"  # MkDocs' `site_url` is a folder URL: it adds the slash too
    return options


def plugin_options(config: dict[str, Any]) -> dict[str, Any]:
    """The options given to the `kb` plugin in a mkdocs.yml mapping (empty when not listed)."""
    for entry in config.get("plugins", []) or []:
        if isinstance(entry, dict) and "kb" in entry:
            return dict(entry["kb"] or {})
    return {}


def settings_from_config(config: dict[str, Any], where: Path | str = CONFIG_FILE) -> Settings:
    options = _plain(plugin_options(config))
    try:
        return Settings.model_validate(options)
    except ValidationError as exc:
        details = "; ".join(
            f"plugins.kb.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{where}: invalid kb settings: {details}") from exc


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
