"""The readers under the policies: HCL values and lines, Dockerfile instructions, YAML lines,
suppression comments."""

from __future__ import annotations

import pytest

from watchkeeper.errors import InputError
from watchkeeper.vulns.iac.dockerfile import parse_dockerfile
from watchkeeper.vulns.iac.hcl import Expression, parse_hcl
from watchkeeper.vulns.iac.kubernetes import load_documents, workloads
from watchkeeper.vulns.iac.suppress import directives

HCL = """\
variable "cidr" {}

resource "x_thing" "a" {
  text    = "plain \\"quoted\\" $${literal}"
  number  = 3
  real    = 1.5
  flag    = true
  nothing = null
  list    = ["a", 1, var.cidr]
  ref     = x_other.b.id
  interp  = "prefix-${var.cidr}"
  doc = jsonencode({
    Key = ["v"]
    "quoted key" = { nested = false }
  })
  other = lower("X")
  heredoc = <<EOT
line one
  line two
EOT
  trimmed = <<-EOT
    a
      b
  EOT
  nested {
    inner = 1
  }
}
"""


def test_hcl_values_and_lines() -> None:
    root = parse_hcl(HCL, path="m.tf")
    variable, resource = root.blocks
    assert (variable.type, variable.labels, variable.line) == ("variable", ("cidr",), 1)
    assert (resource.type, resource.labels, resource.line) == ("resource", ("x_thing", "a"), 3)
    assert resource.get("text") == 'plain "quoted" ${literal}'
    assert resource.get("number") == 3
    assert resource.get("real") == 1.5
    assert resource.get("flag") is True
    assert resource.get("nothing") is None
    assert resource.get("list") == ["a", 1, Expression("var.cidr")]
    assert resource.get("ref") == Expression("x_other.b.id")
    assert isinstance(resource.get("interp"), Expression)
    assert resource.get("doc") == {"Key": ["v"], "quoted key": {"nested": False}}
    assert isinstance(resource.get("other"), Expression)
    assert resource.get("heredoc") == "line one\n  line two\n"
    assert resource.get("trimmed") == "a\n  b\n"
    assert resource.line_of("doc") == 12
    assert resource.line_of("nested") == 25
    assert resource.children("nested")[0].line_of("inner") == 26
    assert resource.line_of("missing") == 3


def test_hcl_errors_name_the_line() -> None:
    with pytest.raises(InputError) as caught:
        parse_hcl('a = 1\nresource "x" {\n  b = = 2\n}\n', path="bad.tf")
    assert caught.value.location == "bad.tf:3"


def test_dockerfile_continuations_comments_and_heredocs() -> None:
    text = """\
# escape=\\
FROM alpine:3.20 AS base
RUN apk add \\
    # a comment inside the command
    curl \\
    git
RUN <<EOF
echo hi
EOF
user app
"""
    dockerfile = parse_dockerfile(text, path="Dockerfile")
    assert [(i.keyword, i.line) for i in dockerfile.instructions] == [
        ("FROM", 2), ("RUN", 3), ("RUN", 7), ("USER", 10),
    ]
    assert dockerfile.instructions[1].value == "apk add curl git"
    assert "echo hi" in dockerfile.instructions[2].value
    (stage,) = dockerfile.stages
    assert (stage.image, stage.alias, stage.line) == ("alpine:3.20", "base", 2)


def test_dockerfile_without_from_is_an_error() -> None:
    with pytest.raises(InputError, match="no FROM"):
        parse_dockerfile("RUN true\n", path="Dockerfile")


def test_yaml_lines_of_workloads() -> None:
    text = "kind: Job\napiVersion: batch/v1\nmetadata: {name: j}\nspec:\n  template:\n" \
           "    spec:\n      containers:\n        - name: c\n          image: x:1\n"
    (workload,) = workloads(load_documents(text, path="j.yaml"), path="j.yaml")
    assert workload.address == "Job/j"
    (container,) = workload.containers
    assert (container.line, container.line_of("image")) == (8, 9)


def test_yaml_errors_name_the_line() -> None:
    with pytest.raises(InputError) as caught:
        load_documents("a: [1, 2\nb: 3\n", path="x.yaml")
    assert caught.value.location is not None
    assert caught.value.location.startswith("x.yaml:")


def test_suppression_comments() -> None:
    text = """\
a = 1 # watchkeeper:ignore=WK-TF-001,WK-TF-002 - shared bucket
# watchkeeper:ignore=WK-TF-003
# another comment
b = 2
c = 3 // watchkeeper:ignore=WK-TF-004: reason here
"""
    first, second, third = directives(text)
    assert (first.ids, first.reason, first.covers) == (
        frozenset({"WK-TF-001", "WK-TF-002"}), "shared bucket", frozenset({1}))
    assert (second.reason, second.covers) == ("", frozenset({2, 4}))
    assert third.reason == "reason here"
    assert second.suppresses("WK-TF-003", 4)
    assert not second.suppresses("WK-TF-001", 4)
