"""The README reference generator (tools/ci/terraform_docs.py) on small fixture modules."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools.ci import terraform_docs as docs

VERSIONS_TF = """
terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.31"
    }
  }
}
"""

VARIABLES_TF = r"""
variable "name" {
  description = "Base name | used everywhere."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+$", var.name))
    error_message = "name must be lower-case letters."
  }
}

variable "settings" {
  description = <<-EOT
    Tuning knobs.
    Second line with `code | pipe` and <angle> brackets.
  EOT
  type = object({
    retries = optional(number, 3)
    mode    = optional(string, "fast")
    targets = optional(list(object({
      arn = string
    })), [])
    labels = optional(map(string), {})
  })
  default = {}
}

variable "untyped" {
  default = null
}

variable "tags" {
  description = "Tags."
  type        = map(string)
  default     = { Project = "demo", "cost-center" = "42" }
}

variable "pattern" {
  description = "A \"quoted\" word."
  type        = string
  default     = <<-EOT
    {
      "source": ["aws.s3"]
    }
  EOT
}
"""

MAIN_TF = """
data "aws_iam_policy_document" "this" {}

resource "aws_sns_topic" "this" {
  count = 1
  name  = var.name
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.this.json
}

module "key" {
  source = "../kms-key"
  name   = var.name
}

module "remote" {
  source  = "terraform-aws-modules/sqs/aws"
  version = ">= 4.0"
}
"""

OUTPUTS_TF = """
output "topic_arn" {
  description = "ARN of the topic."
  value       = try(aws_sns_topic.this[0].arn, null)
}

output "no_description" {
  value = var.name
}
"""


def _module(root: Path, files: dict[str, str], readme: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text), encoding="utf-8")
    if readme is not None:
        (root / "README.md").write_text(readme, encoding="utf-8")
    return root


@pytest.fixture
def module_dir(tmp_path: Path) -> Path:
    return _module(
        tmp_path / "modules" / "demo",
        {
            "versions.tf": VERSIONS_TF,
            "variables.tf": VARIABLES_TF,
            "main.tf": MAIN_TF,
            "outputs.tf": OUTPUTS_TF,
        },
        "# demo\n\nWhat it builds.\n",
    )


def _inputs(directory: Path) -> dict[str, docs.Input]:
    return {i.name: i for i in docs.load_module(directory).inputs}


def test_required_and_optional_inputs(module_dir: Path) -> None:
    inputs = _inputs(module_dir)
    assert inputs["name"].required is True
    assert inputs["name"].default is None
    assert inputs["settings"].required is False
    assert inputs["settings"].default == "{}"
    # default = null makes an input optional, and an untyped input is `any`.
    assert inputs["untyped"].required is False
    assert inputs["untyped"].default == "null"
    assert inputs["untyped"].type == "any"


def test_object_type_is_rebuilt_with_optional_defaults(module_dir: Path) -> None:
    assert _inputs(module_dir)["settings"].type == textwrap.dedent(
        """\
        object({
          retries = optional(number, 3)
          mode    = optional(string, "fast")
          targets = optional(list(object({
            arn = string
          })), [])
          labels  = optional(map(string), {})
        })"""
    )


def test_validation_blocks_are_not_documented(module_dir: Path) -> None:
    section = docs.render_section(docs.load_module(module_dir))
    assert "lower-case letters" not in section
    assert "regex" not in section


def test_multiline_description_and_escaping(module_dir: Path) -> None:
    inputs = _inputs(module_dir)
    assert inputs["settings"].description == (
        "Tuning knobs.\nSecond line with `code | pipe` and <angle> brackets."
    )
    cell = docs.escape_text(inputs["settings"].description)
    assert cell == "Tuning knobs.<br>Second line with `code \\| pipe` and &lt;angle&gt; brackets."
    assert docs.escape_text("Base name | used everywhere.") == "Base name \\| used everywhere."
    assert inputs["pattern"].description == 'A "quoted" word.'


def test_defaults_render_as_hcl(module_dir: Path) -> None:
    inputs = _inputs(module_dir)
    assert inputs["tags"].default == '{\n  Project       = "demo"\n  "cost-center" = "42"\n}'
    assert inputs["pattern"].default == '<<-EOT\n  {\n    "source": ["aws.s3"]\n  }\nEOT'
    assert docs.render_value([1, True, None, '"x"']) == '[1, true, null, "x"]'
    assert docs.render_value("${var.other}") == "var.other"


def test_code_cells_escape_table_syntax() -> None:
    assert docs.code_cell('optional(string, "a|b")') == '`optional(string, "a\\|b")`'
    pre = docs.code_cell('object({\n  a = optional(list(string), ["s3:*"])\n  _x = string\n})')
    assert pre.startswith('<pre>object({<br>  a = optional(list(string), &#91;"s3:&#42;"&#93;)<br>')
    assert "&#95;x = string" in pre
    assert "\n" not in pre and "|" not in pre


def test_outputs_modules_resources_and_requirements(module_dir: Path) -> None:
    doc = docs.load_module(module_dir)
    assert [(o.name, o.description) for o in doc.outputs] == [
        ("topic_arn", "ARN of the topic."),
        ("no_description", ""),
    ]
    assert doc.terraform_version == ">= 1.5"
    assert doc.providers == {"aws": ("hashicorp/aws", ">= 5.31")}
    section = docs.render_section(doc)
    assert "| `key` | `../kms-key` | n/a |" in section
    assert "| `remote` | `terraform-aws-modules/sqs/aws` | `>= 4.0` |" in section
    assert "| `no_description` | n/a |" in section
    assert "| `terraform` | `>= 1.5` |" in section
    assert "| `aws` | `>= 5.31` |" in section
    topic = "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/sns_topic"
    policy_doc = (
        "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/data-sources/iam_policy_document"
    )
    assert f"| [`aws_sns_topic.this`]({topic}) | resource |" in section
    assert f"| [`data.aws_iam_policy_document.this`]({policy_doc}) | data source |" in section


def test_tables_are_sorted(module_dir: Path) -> None:
    section = docs.render_section(docs.load_module(module_dir))
    names = ["name", "pattern", "settings", "tags", "untyped"]
    positions = [section.index(f"| `{n}` |") for n in names]
    assert positions == sorted(positions)
    assert section.index("| `no_description` |") < section.index("| `topic_arn` |")
    # managed resources first, then data sources, each by type then name
    rows = [line for line in section.splitlines() if "registry.terraform.io" in line]
    assert [r.split("`")[1] for r in rows] == [
        "aws_sns_topic.this",
        "aws_sns_topic_policy.this",
        "data.aws_iam_policy_document.this",
    ]


def test_input_row_layout(module_dir: Path) -> None:
    section = docs.render_section(docs.load_module(module_dir))
    assert "| `name` | Base name \\| used everywhere. | `string` | n/a | yes |" in section
    settings = next(line for line in section.splitlines() if line.startswith("| `settings` |"))
    assert settings.endswith("| `{}` | no |")
    assert "<pre>object({<br>  retries = optional(number, 3)<br>" in settings


def test_generate_appends_section_then_is_idempotent(module_dir: Path) -> None:
    [(readme_path, reason)] = docs.check([module_dir])
    assert readme_path == module_dir / "README.md"
    assert "no generated section" in reason

    assert docs.generate([module_dir]) == [module_dir / "README.md"]
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# demo\n\nWhat it builds.\n\n## Reference\n\n<!-- BEGIN_TF_DOCS -->")
    assert readme.endswith("<!-- END_TF_DOCS -->\n")
    assert docs.check([module_dir]) == []
    assert docs.generate([module_dir]) == []
    assert (module_dir / "README.md").read_text(encoding="utf-8") == readme


def test_generate_replaces_only_between_markers(module_dir: Path) -> None:
    (module_dir / "README.md").write_text(
        f"# demo\n\nIntro.\n\n{docs.BEGIN_MARKER}\nold stuff\n{docs.END_MARKER}\n\n## Afterwards\n\nKept.\n",
        encoding="utf-8",
    )
    docs.generate([module_dir])
    readme = (module_dir / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# demo\n\nIntro.\n\n{docs.BEGIN_MARKER}\n")
    assert readme.endswith(f"{docs.END_MARKER}\n\n## Afterwards\n\nKept.\n")
    assert "old stuff" not in readme
    assert "## Reference" not in readme


def test_check_detects_a_stale_section(module_dir: Path) -> None:
    docs.generate([module_dir])
    with (module_dir / "outputs.tf").open("a", encoding="utf-8") as handle:
        handle.write('\noutput "extra" {\n  description = "New."\n  value       = 1\n}\n')
    assert docs.check([module_dir]) == [(module_dir / "README.md", "generated section is out of date")]


def test_override_files_are_ignored(module_dir: Path) -> None:
    (module_dir / "emulator_override.tf").write_text(
        'variable "injected" {\n  default = 1\n}\n', encoding="utf-8"
    )
    assert "injected" not in _inputs(module_dir)


def test_broken_markers_are_an_error(module_dir: Path) -> None:
    (module_dir / "README.md").write_text(
        f"# demo\n\n{docs.END_MARKER}\n{docs.BEGIN_MARKER}\n", encoding="utf-8"
    )
    with pytest.raises(docs.DocsError, match="expected one"):
        docs.generate([module_dir])


def test_directory_without_terraform_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(docs.DocsError, match=r"no \*\.tf files"):
        docs.load_module(tmp_path)


def test_cli_check_fails_with_fix_hint(module_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs.main(["check", str(module_dir)]) == 1
    err = capsys.readouterr().err
    assert "README.md: no generated section" in err
    assert "make docs" in err
    assert docs.main(["generate", str(module_dir)]) == 0
    assert docs.main(["check", str(module_dir)]) == 0


def test_default_directories_cover_root_modules_and_examples(tmp_path: Path) -> None:
    _module(tmp_path, {"versions.tf": VERSIONS_TF})
    _module(tmp_path / "modules" / "b", {"main.tf": MAIN_TF})
    _module(tmp_path / "modules" / "a", {"main.tf": MAIN_TF})
    _module(tmp_path / "examples" / "x", {"main.tf": MAIN_TF})
    (tmp_path / "modules" / "not-terraform").mkdir()
    assert docs.default_directories(tmp_path) == [
        tmp_path,
        tmp_path / "modules" / "a",
        tmp_path / "modules" / "b",
        tmp_path / "examples" / "x",
    ]


def test_repository_readmes_are_current() -> None:
    """The committed READMEs match the code (what `make docs-check` enforces), for the documented set."""
    root = docs.REPO_ROOT
    documented = [root, *(root / d for d in DOCUMENTED)]
    assert docs.check(documented) == []


DOCUMENTED = [
    "modules/kms-key",
    "modules/sns-topic",
    "modules/lambda-function",
    "modules/event-rule",
    "modules/root-activity-monitor",
    "examples/root-activity-monitor",
]
