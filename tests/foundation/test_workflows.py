"""The GitHub workflows, read as GitHub reads them (YAML): what triggers the smoke workflow (never a pull
request), who may write and who holds the signing key, that card ids reach the shell through the
environment only, that every `kb` command they run exists with those options (parsed by the `kb`
command's own parser), and that the Pages build fetches the signed reports before it builds."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator.cli import build_parser
from tests.factory import REPO_ROOT

WORKFLOWS = REPO_ROOT / ".github" / "workflows"
SIGNING_SECRET = "KB_SMOKE_SIGNING_KEY"


def workflow(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, job in data["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def environment(data: dict[str, Any], job: str, step: dict[str, Any]) -> dict[str, str]:
    """The variables a step's shell sees that the workflow sets (workflow, job, step)."""
    env = {**data.get("env", {}), **data["jobs"][job].get("env", {}), **step.get("env", {})}
    return {k: str(v) for k, v in env.items()}


def kb_commands(script: str, env: dict[str, str]) -> Iterator[list[str]]:
    """The arguments of each `kb` command of a shell script, variables expanded as the step's environment
    gives them (an expression GitHub fills in, or a list of card ids, stands for one card id)."""
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        while "kb" in tokens:
            tokens = tokens[tokens.index("kb") + 1 :]
            args = []
            for token in tokens:
                if set(token) <= set("();<>|&"):
                    break
                args.append(_expand(token, env))
            yield args


def _expand(token: str, env: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        found = env.get(match.group(1) or match.group(2) or "", "${{")
        return "tiny-id" if "${{" in found else found

    token = re.sub(r"\$\{\{.*?\}\}", "tiny-id", token)
    token = re.sub(r"\$\{(\w+)\[@\]\}", "tiny-id", token)
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, token)


ALL = sorted(p.name for p in WORKFLOWS.glob("*.yml"))


def test_the_smoke_workflow_runs_on_pushes_to_main_and_by_hand_never_on_a_pull_request() -> None:
    smoke = workflow("smoke.yml")
    assert set(smoke["on"]) == {"push", "workflow_dispatch"}
    # Every push to main: which cards need a run is decided against the published reports (--stale), so
    # a push outside the cards that makes reports stale (a new version of the checks) runs them too.
    assert smoke["on"]["push"] == {"branches": ["main"]}
    assert set(smoke["on"]["workflow_dispatch"]["inputs"]) == {"ids"}
    for name in ALL:
        data, text = workflow(name), (WORKFLOWS / name).read_text(encoding="utf-8")
        assert "pull_request_target" not in data["on"], name
        if SIGNING_SECRET in text:
            assert "pull_request" not in data["on"], name


def test_the_job_that_signs_cannot_write_and_the_job_that_writes_runs_no_model_code() -> None:
    smoke = workflow("smoke.yml")
    jobs = smoke["jobs"]
    assert smoke["permissions"] == {"contents": "read"}
    writers = {name for name, job in jobs.items() if "write" in job.get("permissions", {}).values()}
    assert writers == {"publish"}
    assert [name for name, job in jobs.items() if SIGNING_SECRET in json.dumps(job)] == ["smoke"]
    assert jobs["smoke"]["environment"] == "smoke-signing"
    checkout = jobs["smoke"]["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"] == {"persist-credentials": False}
    # The secret is in the environment of the one step that writes it to a file, which runs no kb.
    holding = [step for _, step in steps(smoke) if SIGNING_SECRET in json.dumps(step)]
    assert len(holding) == 1 and "kb " not in holding[0]["run"]
    assert "umask 077" in holding[0]["run"] and '"$RUNNER_TEMP/smoke_ed25519"' in holding[0]["run"]
    assert not any(list(kb_commands(step.get("run", ""), {})) for step in jobs["publish"]["steps"])


def test_ids_reach_the_shell_through_the_environment() -> None:
    for name in ("smoke.yml", "pages.yml"):
        for job, step in steps(workflow(name)):
            assert "${{" not in step.get("run", ""), f"{name}: {job}: {step.get('name')}"


@pytest.mark.parametrize("name", ALL)
def test_every_kb_command_a_workflow_runs_exists_with_those_options(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data, parser = workflow(name), build_parser()
    for job, step in steps(data):
        for args in kb_commands(step.get("run", ""), environment(data, job, step)):
            try:
                parser.parse_args(args)
            except SystemExit:
                pytest.fail(f"{name}: {job}: kb {' '.join(args)}: {capsys.readouterr().err}")


def test_the_smoke_job_pulls_runs_and_signs_what_it_selected() -> None:
    smoke = workflow("smoke.yml")
    ran = [
        (job, args, environment(smoke, job, step))
        for job, step in steps(smoke)
        for args in kb_commands(step.get("run", ""), environment(smoke, job, step))
    ]
    commands = [(job, args) for job, args, _ in ran]
    fits = "cpus=4,memory_gb=16,time_minutes=120"
    assert commands == [
        ("select", ["repos", "sync"]),
        ("select", ["smoke", "--list", "--fits", fits, "--stale"]),
        ("select", ["smoke", "--list", "--fits", fits, "--", "tiny-id"]),
        ("smoke", ["repos", "sync"]),
        ("smoke", ["smoke", "--list", "--fits", fits, "--", "tiny-id"]),
        ("smoke", ["checkpoints", "pull", "--smoke", "--", "tiny-id"]),
        ("smoke", ["smoke", "--executor", "local", "--device", "cpu", "--", "tiny-id"]),
    ]
    signing = ran[-1][2]
    assert (
        signing["KB_SIGNING_KEY"] == "${{ runner.temp }}/smoke_ed25519" and signing["KB_SIGNER"] == "smoke-ci"
    )
    publish = [step["run"] for step in smoke["jobs"]["publish"]["steps"] if "run" in step]
    assert any('scripts/smoke-reports.sh push "${ran[@]}"' in run for run in publish)


def test_the_smoke_workflow_selects_against_the_published_reports() -> None:
    """Not against the push's previous commit (`--changed-since`): a cancelled or failed run would
    leave its cards never run again. The reports branch is read first, in a job with no secret."""
    smoke = workflow("smoke.yml")
    select = smoke["jobs"]["select"]
    runs = [step.get("run", "") for step in select["steps"]]
    fetch = runs.index("scripts/smoke-reports.sh fetch")
    assert fetch < next(i for i, run in enumerate(runs) if "--stale" in run)
    assert "--changed-since" not in (WORKFLOWS / "smoke.yml").read_text(encoding="utf-8")
    assert "secrets" not in json.dumps(select) and "environment" not in select
    assert select["permissions"] == {"contents": "read"}
    assert smoke["jobs"]["smoke"]["needs"] == "select"


def test_no_smoke_job_saves_a_cache_that_others_restore() -> None:
    """A job that runs model code could poison a cache that the Pages and release jobs, which can
    write, restore: the smoke workflow saves none."""
    for job, step in steps(workflow("smoke.yml")):
        assert "cache" not in step.get("with", {}), f"{job}: {step.get('uses')}"
        assert not str(step.get("uses", "")).startswith("actions/cache"), job


def test_the_pages_build_fetches_the_signed_reports_before_building() -> None:
    pages = workflow("pages.yml")
    assert pages["on"]["workflow_run"] == {"workflows": ["smoke"], "types": ["completed"]}
    runs = [step.get("run", "") for _, step in steps(pages)]
    fetch = runs.index("scripts/smoke-reports.sh fetch")
    build = next(i for i, run in enumerate(runs) if run.startswith("kb build"))
    assert fetch < build
    script = Path(REPO_ROOT / "scripts" / "smoke-reports.sh")
    assert script.stat().st_mode & 0o111, "the workflows run the script directly: it must be executable"
