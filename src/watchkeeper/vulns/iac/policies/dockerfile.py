"""Dockerfiles: images that run as root, fetch code unchecked, or carry secrets."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from watchkeeper.vulns.iac.dockerfile import Dockerfile, Instruction, Stage
from watchkeeper.vulns.iac.model import Policy, Target, Violation
from watchkeeper.vulns.iac.policies.kubernetes import image_unpinned
from watchkeeper.vulns.model import Severity

KINDS = ("Dockerfile",)
ROOT_USERS = frozenset({"root", "0"})
SECRET_NAME = re.compile(
    r"PASSW(OR)?D|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL", re.IGNORECASE
)
NOT_A_SECRET = re.compile(r"_(FILE|PATH|DIR|URL|NAME|LENGTH)$", re.IGNORECASE)
PIPE_TO_SHELL = re.compile(
    r"\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+(-\S+\s+)*)?(env\s+)?(ba|z|da|k|a)?sh\b"
)


def _final_user(stages: list[Stage], index: int) -> Instruction | None:
    """The USER in force at the end of stage ``index``, following ``FROM earlier-stage``."""
    stage = stages[index]
    users = [i for i in stage.instructions if i.keyword == "USER"]
    if users:
        return users[-1]
    for earlier in range(index - 1, -1, -1):
        if stages[earlier].alias and stages[earlier].alias == stage.image:
            return _final_user(stages, earlier)
    return None


def check_root_user(dockerfile: Dockerfile) -> Iterator[Violation]:
    stages = dockerfile.stages
    if not stages or stages[-1].image.lower() == "scratch":
        return
    user = _final_user(stages, len(stages) - 1)
    if user is None:
        yield Violation(stages[-1].line, "no USER instruction: the container runs as root")
        return
    name = user.value.split(":", 1)[0].strip()
    if name in ROOT_USERS:
        yield Violation(user.line, f"USER {user.value}")


def check_add_url(dockerfile: Dockerfile) -> Iterator[Violation]:
    for instruction in dockerfile.instructions:
        if instruction.keyword != "ADD":
            continue
        words = instruction.value.split()
        if any(w.startswith("--checksum") for w in words):
            continue
        urls = [w for w in words if w.startswith(("http://", "https://"))]
        if urls:
            yield Violation(instruction.line, f"ADD {urls[0]}")


def _assignments(instruction: Instruction) -> Iterator[tuple[str, str]]:
    try:
        words = shlex.split(instruction.value, comments=False, posix=True)
    except ValueError:
        words = instruction.value.split()
    if instruction.keyword == "ENV" and words and "=" not in words[0]:
        yield words[0], " ".join(words[1:])  # the legacy form: ENV NAME value
        return
    for word in words:
        name, equals, value = word.partition("=")
        if equals:
            yield name, value


def check_secrets(dockerfile: Dockerfile) -> Iterator[Violation]:
    for instruction in dockerfile.instructions:
        if instruction.keyword not in ("ENV", "ARG"):
            continue
        for name, value in _assignments(instruction):
            if (SECRET_NAME.search(name) and not NOT_A_SECRET.search(name)
                    and value and not value.startswith("$")):
                yield Violation(instruction.line,
                                f"{instruction.keyword} {name} has a literal value")


def check_base_image(dockerfile: Dockerfile) -> Iterator[Violation]:
    aliases: set[str] = set()
    for stage in dockerfile.stages:
        image = stage.image
        if (image.lower() != "scratch" and image not in aliases and "$" not in image
                and image_unpinned(image)):
            yield Violation(stage.line, f"FROM {image} is not pinned to a version or digest")
        if stage.alias:
            aliases.add(stage.alias)


def check_pipe_to_shell(dockerfile: Dockerfile) -> Iterator[Violation]:
    for instruction in dockerfile.instructions:
        if instruction.keyword == "RUN" and PIPE_TO_SHELL.search(instruction.value):
            yield Violation(instruction.line, "a downloaded script is piped into a shell")


POLICIES: tuple[Policy[Dockerfile], ...] = (
    Policy(
        "WK-DF-001", "Image runs as root", Severity.MEDIUM, Target.DOCKERFILE, KINDS,
        "The final stage has no USER instruction (also none in the stage it builds on), or "
        "its last USER is root or 0.",
        "Create an unprivileged user and end the final stage with USER <name or uid>.",
        check_root_user,
    ),
    Policy(
        "WK-DF-002", "ADD downloads from a URL", Severity.MEDIUM, Target.DOCKERFILE, KINDS,
        "ADD with an http:// or https:// source and no --checksum, so whatever the server "
        "returns is built in.",
        "Download with RUN and verify a checksum or signature, or use ADD --checksum=sha256:….",
        check_add_url,
    ),
    Policy(
        "WK-DF-003", "Secret in ENV or ARG", Severity.HIGH, Target.DOCKERFILE, KINDS,
        "ENV or ARG whose name contains PASSWORD, SECRET, TOKEN, API_KEY, PRIVATE_KEY, "
        "ACCESS_KEY or CREDENTIAL and whose value is a literal (not a $variable); names "
        "ending in _FILE, _PATH, _DIR, _URL, _NAME or _LENGTH are left alone. Both end up "
        "in the image's history.",
        "Pass secrets at build time with RUN --mount=type=secret, and at run time from the "
        "orchestrator's secret store.",
        check_secrets,
    ),
    Policy(
        "WK-DF-004", "Base image not pinned", Severity.MEDIUM, Target.DOCKERFILE, KINDS,
        "FROM an image with no tag or the latest tag and no @sha256 digest (scratch, earlier "
        "stages and images named by a build argument are skipped).",
        "Use a versioned tag, ideally with its digest: FROM python:3.12-slim@sha256:….",
        check_base_image,
    ),
    Policy(
        "WK-DF-005", "Remote script piped into a shell", Severity.HIGH, Target.DOCKERFILE,
        KINDS,
        "RUN that pipes curl or wget output straight into sh, bash or another shell.",
        "Download the script to a file, verify its checksum or signature, then run it; "
        "better, install a packaged release.",
        check_pipe_to_shell,
    ),
)
