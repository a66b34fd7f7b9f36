"""The demo workflow through workflow/profiles/slurm on a real one-node SLURM cluster.

The module starts the cluster with tools/slurm/start-cluster.sh, runs the workflow
once at the tiny preset through the SLURM profile, checks that run from several sides,
and stops the cluster by PID. The cluster needs root and the Debian packages
slurmctld, slurmd, slurm-client and munge. Without them every test here is skipped.

One job is killed on purpose. A test-only ``sitecustomize`` hook on PYTHONPATH
(written below, never part of the product) makes the first attempt of KILLED_RULE
write a partial output file and then SIGKILL its own job step. SLURM ends a job that
exceeds its time or memory limit with signals in much the same way.

Runtime: 10 to 14 minutes on a 2-core machine shared with other heavy work (51 jobs,
two at a time, measured four times), less on an idle one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

pytestmark = [pytest.mark.slurm, pytest.mark.e2e, pytest.mark.timeout(1500)]

REPO_ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).parent / "snakemake"
CLUSTER_PROGRAMS = ["munged", "mungekey", "slurmctld", "slurmd", "sinfo", "sbatch", "squeue", "scontrol", "scancel"]

# Account and partition that the profile reads from the environment. The test cluster
# has no accounting database, so any account name is accepted.
ACCOUNT = "lookbook-test"
PARTITION = "debug"

# Rules whose jobs need a GPU in the study. At the tiny preset they request one too.
GPU_RULES = {
    "train_classifier",
    "evaluate_classifier",
    "saliency_examples",
    "saliency_class_average",
    "saliency_sanity",
    "gan_train",
    "gan_real_features",
    "gan_quality",
    "search_index",
    "search_evaluate",
}
# Memory of a tiny-preset job on its first attempt, in MB (workflow/presets/tiny.yaml).
TINY_MEM_MB = 2000

# Rules that the login node may run to redraw the report (README, "Running on a cluster").
REPORT_RULES = ["provenance", "report_context", "report_html", "report_tex", "report_pdf", "report"]

KILLED_RULE = "train_classifier"
KILLED_OUTPUT = "results/classifier/resnet18/metrics.tsv"
METRICS_COLUMNS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds", "images_per_s"]

# Seconds before the plugin's first status check (its default is 40). A short delay
# keeps this run of 51 short jobs fast. The cluster's MinJobAge stays above 3x this.
STATUS_CHECK_DELAY_S = 2
# Upper bound for the whole run, above the 10 to 13 minutes it took on a busy 2-core machine.
RUN_TIMEOUT_S = 1200

# The test-only hook. It runs at the start of every Python process of the run and acts
# only in the job step of KILLED_RULE on attempt 1 (the slurm-jobstep executor gets
# --allowed-rules and --attempt on its command line).
KILL_HOOK = '''
import json
import os
import signal
import sys
from pathlib import Path


def _kill_first_attempt():
    spec = os.environ.get("LOOKBOOK_TEST_KILL_ONCE")
    if not spec or "slurm-jobstep" not in sys.argv:
        return
    spec = json.loads(spec)
    args = sys.argv
    rules = args[args.index("--allowed-rules") + 1] if "--allowed-rules" in args else ""
    attempt = args[args.index("--attempt") + 1] if "--attempt" in args else ""
    if rules != spec["rule"] or attempt != "1":
        return
    partial = Path(spec["partial_output"])
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_text("epoch\\ttrain_lo")
    Path(spec["marker"]).write_text(os.environ.get("SLURM_JOB_ID", ""))
    os.kill(os.getpid(), signal.SIGKILL)


_kill_first_attempt()
'''


@dataclass
class SlurmJob:
    """One job of the run as squeue reports it."""

    job_id: str
    rule: str
    state: str
    tres_per_job: str
    memory: str
    account: str
    partition: str


@dataclass
class SlurmRun:
    """The workflow run through the SLURM profile, with what the checks read."""

    workdir: Path
    returncode: int
    output: str
    jobs: list[SlurmJob]
    kill_marker: Path
    env: dict[str, str]
    command: list[str]


def cluster_unavailable_reason() -> str | None:
    if os.geteuid() != 0:
        return "the local SLURM cluster needs root (slurmd starts jobs as their owner)"
    missing = [program for program in CLUSTER_PROGRAMS if shutil.which(program) is None]
    if missing:
        return (
            f"SLURM or munge programs not found: {', '.join(missing)}; install the Debian packages "
            "slurmctld slurmd slurm-client munge (.ci/run does)"
        )
    return None


def skip_or_fail(reason: str) -> None:
    """Skip, except in CI (CI=true), where .ci/run installs the packages and runs as root."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the SLURM tests, but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rule_of_comment(comment: str) -> str:
    """Return the rule name from the job comment that the plugin sets (rule_<name>[_wildcards_...])."""
    match = re.fullmatch(r"rule_(.+?)(?:_wildcards_.*)?", comment)
    assert match, f"unexpected SLURM job comment {comment!r}"
    return match.group(1)


def read_jobs(env: dict[str, str]) -> list[SlurmJob]:
    """Return every job that squeue still lists. MinJobAge keeps finished ones for an hour."""
    fields = ["JobID", "Comment", "State", "tres-per-job", "MinMemory", "Account", "Partition"]
    listing = subprocess.run(
        ["squeue", "--states=all", "--noheader", "--Format=" + ",".join(f"{name}:300|" for name in fields)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    jobs = []
    for line in listing.splitlines():
        values = [value.strip() for value in line.split("|")[: len(fields)]]
        job_id, comment, state, tres, memory, account, partition = values
        jobs.append(SlurmJob(job_id, rule_of_comment(comment), state, tres, memory, account, partition))
    return jobs


def sbatch_calls(output: str) -> dict[str, list[str]]:
    """Return the sbatch command lines that the plugin logged (--verbose), per rule."""
    calls: dict[str, list[str]] = {}
    for line in output.splitlines():
        if not line.startswith("sbatch call: "):
            continue
        comment = re.search(r"--comment (\S+)", line)
        assert comment, f"sbatch call without --comment: {line[:200]}"
        calls.setdefault(rule_of_comment(comment.group(1).strip("'")), []).append(line)
    return calls


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """Environment for SLURM client commands of a freshly started one-node cluster."""
    reason = cluster_unavailable_reason()
    if reason:
        skip_or_fail(reason)
    state_dir = tmp_path_factory.mktemp("slurm-cluster")
    env = {name: value for name, value in os.environ.items() if not name.startswith(("SLURM_", "SBATCH_"))}
    env["LOOKBOOK_SLURMCTLD_PORT"] = str(free_port())
    env["LOOKBOOK_SLURMD_PORT"] = str(free_port())
    start = subprocess.run(
        [str(REPO_ROOT / "tools" / "slurm" / "start-cluster.sh"), str(state_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if start.returncode == 2:
        skip_or_fail(f"local SLURM cluster cannot run here: {start.stderr.strip()}")
    env["SLURM_CONF"] = str(state_dir / "slurm.conf")
    try:
        assert start.returncode == 0, f"start-cluster.sh failed:\n{start.stderr}"
        yield env
    finally:
        subprocess.run(
            [str(REPO_ROOT / "tools" / "slurm" / "stop-cluster.sh"), str(state_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def slurm_run(slurm_cluster, tmp_path_factory) -> SlurmRun:
    """Run the whole demo workflow at the tiny preset through the SLURM profile."""
    workdir = tmp_path_factory.mktemp("slurm-run")
    shutil.copy(REPO_ROOT / "config.yaml", workdir / "config.yaml")
    hook_dir = tmp_path_factory.mktemp("slurm-hook")
    (hook_dir / "sitecustomize.py").write_text(KILL_HOOK, encoding="utf-8")
    kill_marker = hook_dir / "killed-job-id"

    env = dict(slurm_cluster)
    env["SBATCH_ACCOUNT"] = ACCOUNT
    env["SBATCH_PARTITION"] = PARTITION
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hook_dir), env.get("PYTHONPATH")]))
    env["LOOKBOOK_TEST_KILL_ONCE"] = json.dumps(
        {"rule": KILLED_RULE, "partial_output": KILLED_OUTPUT, "marker": str(kill_marker)}
    )
    # Jobs get one CPU each; keep torch and BLAS from starting a thread per core.
    env["OMP_NUM_THREADS"] = "1"

    # The README's command for a SLURM site, plus the preset, a short first status
    # check and --verbose, which logs every sbatch call.
    command = [
        str(SNAKEMAKE),
        "--snakefile",
        str(REPO_ROOT / "Snakefile"),
        "--profile",
        str(REPO_ROOT / "workflow" / "profiles" / "slurm"),
        "--config",
        "preset=tiny",
        "--slurm-init-seconds-before-status-checks",
        str(STATUS_CHECK_DELAY_S),
        "--verbose",
    ]
    result = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S
    )
    output = result.stdout + result.stderr
    (workdir / "snakemake-output.log").write_text(output, encoding="utf-8")
    return SlurmRun(workdir, result.returncode, output, read_jobs(env), kill_marker, env, command)


def test_slurm_run_completes(slurm_run):
    tail = "\n".join(slurm_run.output.splitlines()[-40:])
    assert slurm_run.returncode == 0, f"snakemake failed; full output in {slurm_run.workdir}/snakemake-output.log:\n{tail}"


def test_slurm_run_produces_report(slurm_run):
    html = slurm_run.workdir / "report" / "build" / "report.html"
    assert html.is_file(), f"{html} missing"
    assert "<html" in html.read_text(encoding="utf-8")[:2000].lower()


def test_slurm_jobs_ran_as_slurm_jobs(slurm_run):
    rules = {job.rule for job in slurm_run.jobs}
    assert {"data_split", "train_classifier", "gan_train", "report_html"} <= rules


def test_slurm_gpu_rules_request_gpu(slurm_run):
    calls = sbatch_calls(slurm_run.output)
    for rule in GPU_RULES:
        assert rule in calls, f"no sbatch call for GPU rule {rule}"
        for call in calls[rule]:
            assert "--gpus=1" in call, f"{rule} submitted without --gpus=1: {call[:300]}"


def test_slurm_cpu_rules_request_no_gpu(slurm_run):
    calls = sbatch_calls(slurm_run.output)
    cpu_rules = set(calls) - GPU_RULES
    assert cpu_rules, "no CPU rule was submitted"
    for rule in cpu_rules:
        for call in calls[rule]:
            assert "--gpus" not in call, f"CPU rule {rule} asked for a GPU: {call[:300]}"


def test_slurm_gpu_jobs_hold_gpu_gres(slurm_run):
    gpu_jobs = [job for job in slurm_run.jobs if job.rule in GPU_RULES]
    assert gpu_jobs
    for job in gpu_jobs:
        assert job.tres_per_job == "gres:gpu:1", f"job {job.job_id} of {job.rule}: {job.tres_per_job}"


def test_slurm_account_partition_from_environment(slurm_run):
    for job in slurm_run.jobs:
        assert job.account == ACCOUNT, f"job {job.job_id} of {job.rule} ran under account {job.account}"
        assert job.partition == PARTITION, f"job {job.job_id} of {job.rule} ran in partition {job.partition}"


def test_slurm_sbatch_names_account_partition(slurm_run):
    calls = [call for rule_calls in sbatch_calls(slurm_run.output).values() for call in rule_calls]
    assert calls
    for call in calls:
        assert f"-A {ACCOUNT}" in call, call[:300]
        assert f"-p {PARTITION}" in call, call[:300]


def test_slurm_killed_job_retried(slurm_run):
    assert slurm_run.kill_marker.is_file(), "the kill hook never fired; was the rule renamed?"
    killed_id = slurm_run.kill_marker.read_text().strip()
    jobs = [job for job in slurm_run.jobs if job.rule == KILLED_RULE]
    states = {job.job_id: job.state for job in jobs}
    assert states.get(killed_id) == "FAILED", states
    assert sorted(states.values()) == ["COMPLETED", "FAILED"], states


def test_slurm_retry_doubles_memory(slurm_run):
    jobs = sorted(
        (job for job in slurm_run.jobs if job.rule == KILLED_RULE), key=lambda job: int(job.job_id)
    )
    memory = [job.memory for job in jobs]
    assert memory == [f"{TINY_MEM_MB}M", f"{2 * TINY_MEM_MB}M"]


def test_slurm_killed_job_output_removed(slurm_run):
    # Snakemake deletes the outputs of a failed job before it runs the job again.
    assert f"Removing output files of failed job {KILLED_RULE}" in slurm_run.output


def test_slurm_retried_output_complete(slurm_run):
    metrics = pd.read_csv(slurm_run.workdir / KILLED_OUTPUT, sep="\t")
    assert list(metrics.columns) == METRICS_COLUMNS
    assert len(metrics) == 1


def test_slurm_run_leaves_no_temporary_files(slurm_run):
    # lookbook.io writes each file as .<stem>.<8 random characters><suffix> beside its
    # target (tempfile.mkstemp) and renames it, so a leftover file of that form is a
    # partial output. Other dot files (.snakemake_timestamp, .latexmk) are bookkeeping.
    temporary_name = re.compile(r"\..+\.[a-z0-9_]{8}(\.[^.]+)?")
    leftovers = []
    for folder in ("results", "figures", "report"):
        for path in (slurm_run.workdir / folder).rglob(".*"):
            if temporary_name.fullmatch(path.name):
                leftovers.append(str(path.relative_to(slurm_run.workdir)))
    assert leftovers == []


def test_login_node_redraws_report(slurm_run):
    assert slurm_run.returncode == 0, "the first run failed; see test_slurm_run_completes"
    html = slurm_run.workdir / "report" / "build" / "report.html"
    html.unlink()
    jobs_before = len(read_jobs(slurm_run.env))
    # The README's command for the login node, at the tiny preset, without the profile.
    command = [
        str(SNAKEMAKE),
        "--snakefile",
        str(REPO_ROOT / "Snakefile"),
        "report",
        "--cores",
        "2",
        "--config",
        "preset=tiny",
        "--allowed-rules",
        *REPORT_RULES,
    ]
    env = {name: value for name, value in slurm_run.env.items() if name != "LOOKBOOK_TEST_KILL_ONCE"}
    redraw = subprocess.run(command, cwd=slurm_run.workdir, env=env, capture_output=True, text=True, timeout=300)
    assert redraw.returncode == 0, redraw.stderr[-3000:]
    assert html.is_file()
    assert len(read_jobs(slurm_run.env)) == jobs_before


def test_slurm_rerun_has_nothing_to_do(slurm_run):
    # Snakemake reruns a job whose rule code changed, so an edit to the workflow while
    # this module runs makes this test fail.
    assert slurm_run.returncode == 0, "the first run failed; see test_slurm_run_completes"
    env = dict(slurm_run.env)
    env.pop("LOOKBOOK_TEST_KILL_ONCE")
    rerun = subprocess.run(
        slurm_run.command, cwd=slurm_run.workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "Nothing to be done" in rerun.stdout + rerun.stderr
