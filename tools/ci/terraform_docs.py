"""Render the reference section of a Terraform module's README from its code (a small terraform-docs).

    python tools/ci/terraform_docs.py generate [DIR...]   rewrite the generated section of DIR/README.md
    python tools/ci/terraform_docs.py check [DIR...]      exit 1 if any generated section is stale or missing

Without DIR: the root module `.`, every `modules/*` and every `examples/*` that holds `*.tf` files.

The section sits between `<!-- BEGIN_TF_DOCS -->` and `<!-- END_TF_DOCS -->`; everything outside the
markers is left alone. A README without markers gets them appended under a `## Reference` heading by
`generate` (and is reported as stale by `check`). The section holds the tables Requirements, Providers,
Modules, Resources, Inputs and Outputs, read with python-hcl2 from every `*.tf` file of the directory
(override files excluded). Types are rebuilt from the parsed expression (`object({...})` with
`optional(...)`, one attribute per line, aligned like `terraform fmt`), defaults rendered as HCL. Output
is sorted and byte-for-byte deterministic.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from lark import Token, Tree

BEGIN_MARKER = "<!-- BEGIN_TF_DOCS -->"
END_MARKER = "<!-- END_TF_DOCS -->"
REFERENCE_HEADING = "## Reference"
REPO_ROOT = Path(__file__).resolve().parents[2]
REGISTRY = "https://registry.terraform.io/providers"
DEFAULT_SOURCES = {"aws": "hashicorp/aws"}
INDENT = "  "

_OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=True, preserve_heredocs=False, strip_string_quotes=False
)


class DocsError(Exception):
    """A directory or README the generator cannot handle (no Terraform files, broken markers, bad HCL)."""


# Model


@dataclass(frozen=True)
class Input:
    name: str
    description: str
    type: str
    default: str | None  # rendered HCL; None when the input is required
    required: bool


@dataclass(frozen=True)
class Output:
    name: str
    description: str


@dataclass(frozen=True)
class Resource:
    mode: str  # "resource" or "data"
    type: str
    name: str


@dataclass(frozen=True)
class ModuleCall:
    name: str
    source: str
    version: str | None


@dataclass
class ModuleDoc:
    terraform_version: str | None = None
    providers: dict[str, tuple[str | None, str | None]] = field(
        default_factory=dict
    )  # name: (source, version)
    modules: list[ModuleCall] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)
    inputs: list[Input] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)


# HCL values as python-hcl2 serialises them (string literals keep their quotes, expressions are "${...}")

_ESCAPE = re.compile(r'\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[nrt"\\])|\$\$\{|%%\{')
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(body: str) -> str:
    def replace(match: re.Match[str]) -> str:
        matched = match.group(0)
        if matched in ("$${", "%%{"):  # escaped template sequences
            return matched[1:]
        code = match.group(1)
        if code[0] in "uU":
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES[code]

    return _ESCAPE.sub(replace, body)


def _string_literal(value: object) -> str | None:
    """The text of a quoted HCL string literal, or None when `value` is not one."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return _unescape(value[1:-1])
    return None


def _expression(value: str) -> str:
    """`${expr}` (python-hcl2's wrapping of a non-literal expression) -> `expr`; keywords stay as they are."""
    if value.startswith("${") and value.endswith("}"):
        return value[2:-1]
    return value


def _label(key: str) -> str:
    return key[1:-1] if key.startswith('"') and key.endswith('"') else key


def _attributes(block: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if not k.startswith("__")}


def _labelled(blocks: Iterable[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    for entry in blocks:
        for key, body in entry.items():
            if not key.startswith("__"):
                yield _label(key), body


# Type expressions, rebuilt from the parse tree


def _children(node: Tree[Token]) -> list[Tree[Token]]:
    return [c for c in node.children if isinstance(c, Tree)]


def _unwrap(node: Tree[Token]) -> Tree[Token]:
    while node.data == "expr_term" and len(node.children) == 1 and isinstance(node.children[0], Tree):
        node = node.children[0]
    return node


def _source_text(node: Tree[Token]) -> str:
    return " ".join(hcl2.reconstruct(node).split("\n")).strip()


def _render_node(node: Tree[Token], indent: str) -> str:
    node = _unwrap(node)
    if node.data == "identifier":
        return str(node.children[0])
    if node.data == "function_call":
        return _render_call(node, indent)
    if node.data == "object":
        pairs = _object_pairs(node, indent)
        return "{ " + ", ".join(f"{k} = {v}" for k, v in pairs) + " }" if pairs else "{}"
    if node.data == "tuple":
        return "[" + ", ".join(_render_node(c, indent) for c in _children(node)) + "]"
    return _source_text(node)


def _object_pairs(node: Tree[Token], indent: str) -> list[tuple[str, str]]:
    pairs = []
    for elem in _children(node):
        if elem.data != "object_elem":
            continue
        key_node, value_node = _children(elem)[:2]
        pairs.append((_source_text(key_node), _render_node(value_node, indent + INDENT)))
    return pairs


def _render_call(node: Tree[Token], indent: str) -> str:
    parts = _children(node)
    name = str(parts[0].children[0])
    args = _children(parts[1]) if len(parts) > 1 and parts[1].data == "arguments" else []
    if name == "object" and len(args) == 1 and _unwrap(args[0]).data == "object":
        pairs = _object_pairs(_unwrap(args[0]), indent)
        if not pairs:
            return "object({})"
        width = max(len(k) for k, _ in pairs)
        lines = [f"{indent}{INDENT}{k.ljust(width)} = {v}" for k, v in pairs]
        return "object({\n" + "\n".join(lines) + f"\n{indent}}})"
    return f"{name}(" + ", ".join(_render_node(a, indent) for a in args) + ")"


def render_type(value: object) -> str:
    """The HCL type constraint of a variable, rebuilt from python-hcl2's `type` value (`any` when unset)."""
    if value is None:
        return "any"
    if not isinstance(value, str):
        raise DocsError(f"unexpected type constraint {value!r}")
    tree = hcl2.parses_to_tree(f"t = {_expression(value)}\n")
    attribute = next(tree.find_data("attribute"))
    return _render_node(_children(attribute)[-1], "")


# Default values


def render_value(value: object, indent: str = "") -> str:
    """A variable default as HCL: scalars inline; non-empty maps/lists, multi-line strings on many lines."""
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)  # null, true/false, numbers: JSON and HCL spell them alike
    if isinstance(value, str):
        return _render_string(value, indent)
    if isinstance(value, list):
        return _render_list(value, indent)
    if isinstance(value, dict):
        return _render_map(value, indent)
    raise DocsError(f"unexpected default value {value!r}")


def _render_list(value: list[Any], indent: str) -> str:
    if not value:
        return "[]"
    items = [render_value(v, indent + INDENT) for v in value]
    if all("\n" not in i for i in items) and sum(len(i) + 2 for i in items) <= 60:
        return "[" + ", ".join(items) + "]"
    return "[\n" + ",\n".join(f"{indent}{INDENT}{i}" for i in items) + f"\n{indent}]"


def _render_map(value: dict[str, Any], indent: str) -> str:
    pairs = [(k, render_value(v, indent + INDENT)) for k, v in _attributes(value).items()]
    if not pairs:
        return "{}"
    width = max(len(k) for k, _ in pairs)
    return "{\n" + "\n".join(f"{indent}{INDENT}{k.ljust(width)} = {v}" for k, v in pairs) + f"\n{indent}}}"


def _render_string(value: str, indent: str) -> str:
    text = _string_literal(value)
    if text is None:
        return _expression(value)
    if "\n" not in text.rstrip("\n"):
        return value
    body = "\n".join(f"{indent}{INDENT}{line}" if line else "" for line in text.rstrip("\n").split("\n"))
    return f"<<-EOT\n{body}\n{indent}EOT"


# Reading a module


def terraform_files(directory: Path) -> list[Path]:
    """The `*.tf` files Terraform reads as the module's configuration, override files excluded."""
    return sorted(
        p
        for p in directory.glob("*.tf")
        if p.is_file() and p.name != "override.tf" and not p.name.endswith("_override.tf")
    )


def parse_file(path: Path) -> dict[str, Any]:
    try:
        parsed: dict[str, Any] = hcl2.loads(path.read_text(encoding="utf-8"), serialization_options=_OPTIONS)
    except Exception as exc:
        raise DocsError(f"{path}: cannot parse HCL: {exc}") from exc
    return parsed


def _text(value: object) -> str | None:
    literal = _string_literal(value)
    if literal is not None:
        return literal
    return None if value is None else _expression(str(value))


def load_module(directory: Path) -> ModuleDoc:
    files = terraform_files(directory)
    if not files:
        raise DocsError(f"{directory}: no *.tf files")
    doc = ModuleDoc()
    for path in files:
        _collect(parse_file(path), doc)
    for resource in doc.resources:
        provider = resource.type.split("_", 1)[0]
        doc.providers.setdefault(provider, (None, None))
    return doc


def _collect(parsed: dict[str, Any], doc: ModuleDoc) -> None:
    for block in parsed.get("terraform", []):
        _collect_terraform(block, doc)
    for name, _config in _labelled(parsed.get("provider", [])):
        doc.providers.setdefault(name, (None, None))
    for name, body in _labelled(parsed.get("module", [])):
        doc.modules.append(ModuleCall(name, _text(body.get("source")) or "", _text(body.get("version"))))
    for mode in ("resource", "data"):
        for rtype, named in _labelled(parsed.get(mode, [])):
            doc.resources.extend(Resource(mode, rtype, _label(n)) for n in _attributes(named))
    for name, body in _labelled(parsed.get("variable", [])):
        doc.inputs.append(_input(name, body))
    for name, body in _labelled(parsed.get("output", [])):
        doc.outputs.append(Output(name, (_text(body.get("description")) or "").strip()))


def _collect_terraform(block: dict[str, Any], doc: ModuleDoc) -> None:
    if "required_version" in block:
        doc.terraform_version = _text(block["required_version"])
    for providers in block.get("required_providers", []):
        for name, spec in _attributes(providers).items():
            if isinstance(spec, dict):
                source, version = _text(spec.get("source")), _text(spec.get("version"))
            else:  # legacy shorthand: aws = ">= 5.0"
                source, version = None, _text(spec)
            doc.providers[name] = (source, version)


def _input(name: str, body: dict[str, Any]) -> Input:
    required = "default" not in body
    return Input(
        name=name,
        description=(_text(body.get("description")) or "").strip(),
        type=render_type(body.get("type")),
        default=None if required else render_value(body["default"]),
        required=required,
    )


# Markdown

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_PRE_ESCAPES = {
    "|": "&#124;",
    "*": "&#42;",
    "`": "&#96;",
    "[": "&#91;",
    "]": "&#93;",
    "\\": "&#92;",
    "~": "&#126;",
}


def escape_text(text: str) -> str:
    """Prose (a description) for a table cell: keeps Markdown/code spans; escapes pipes, HTML, newlines."""
    if not text:
        return "n/a"
    lines = []
    for line in text.split("\n"):
        out, last = [], 0
        for match in _CODE_SPAN.finditer(line):
            out.append(html.escape(line[last : match.start()], quote=False).replace("|", "\\|"))
            out.append(match.group(0).replace("|", "\\|"))
            last = match.end()
        out.append(html.escape(line[last:], quote=False).replace("|", "\\|"))
        lines.append("".join(out).rstrip())
    return "<br>".join(lines)


def code_cell(text: str) -> str:
    """A value (type, default) for a table cell: a code span, or a <pre> block when it spans several lines."""
    if "\n" not in text:
        fence = "``" if "`" in text else "`"
        pad = " " if fence == "``" else ""
        return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"
    escaped = html.escape(text, quote=False)
    escaped = "".join(_PRE_ESCAPES.get(ch, ch) for ch in escaped)
    escaped = _LONE_UNDERSCORE.sub("&#95;", escaped)
    return "<pre>" + "<br>".join(escaped.split("\n")) + "</pre>"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], empty: str) -> str:
    if not rows:
        return empty
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return "\n".join(lines)


def _resource_link(resource: Resource, sources: dict[str, tuple[str | None, str | None]]) -> str:
    provider, _, short = resource.type.partition("_")
    source = sources.get(provider, (None, None))[0] or DEFAULT_SOURCES.get(provider, f"hashicorp/{provider}")
    kind = "resources" if resource.mode == "resource" else "data-sources"
    prefix = "data." if resource.mode == "data" else ""
    return f"[`{prefix}{resource.type}.{resource.name}`]({REGISTRY}/{source}/latest/docs/{kind}/{short})"


def render_section(doc: ModuleDoc) -> str:
    """The generated section, markers included."""
    providers = sorted(doc.providers.items())
    requirements = [["`terraform`", code_cell(doc.terraform_version)]] if doc.terraform_version else []
    requirements += [[f"`{n}`", code_cell(v) if v else "n/a"] for n, (s, v) in providers if s or v]
    provider_rows = [
        [f"`{n}`", code_cell(s or DEFAULT_SOURCES.get(n, f"hashicorp/{n}")), code_cell(v) if v else "n/a"]
        for n, (s, v) in providers
    ]
    module_rows = [
        [f"`{m.name}`", code_cell(m.source), code_cell(m.version) if m.version else "n/a"]
        for m in sorted(doc.modules, key=lambda m: m.name)
    ]
    resources = sorted(set(doc.resources), key=lambda r: (r.mode != "resource", r.type, r.name))
    resource_rows = [
        [_resource_link(r, doc.providers), "resource" if r.mode == "resource" else "data source"]
        for r in resources
    ]
    input_rows = [
        [
            f"`{i.name}`",
            escape_text(i.description),
            code_cell(i.type),
            "n/a" if i.default is None else code_cell(i.default),
            "yes" if i.required else "no",
        ]
        for i in sorted(doc.inputs, key=lambda i: i.name)
    ]
    output_rows = [
        [f"`{o.name}`", escape_text(o.description)] for o in sorted(doc.outputs, key=lambda o: o.name)
    ]
    parts = [
        BEGIN_MARKER,
        "<!-- Generated by tools/ci/terraform_docs.py (`make docs`): edits between the markers are lost. -->",
        "### Requirements",
        _table(["Name", "Version"], requirements, "No requirements."),
        "### Providers",
        _table(["Name", "Source", "Version"], provider_rows, "No providers."),
        "### Modules",
        _table(["Name", "Source", "Version"], module_rows, "No modules."),
        "### Resources",
        _table(["Name", "Type"], resource_rows, "No resources."),
        "### Inputs",
        _table(["Name", "Description", "Type", "Default", "Required"], input_rows, "No inputs."),
        "### Outputs",
        _table(["Name", "Description"], output_rows, "No outputs."),
        END_MARKER,
    ]
    return "\n\n".join(parts)


# README handling


def has_section(readme: str) -> bool:
    return BEGIN_MARKER in readme and END_MARKER in readme


def update_readme(readme: str | None, section: str, title: str) -> str:
    """`readme` with its generated section replaced by `section` (appended under `## Reference` if absent)."""
    if readme is None:
        return f"# {title}\n\n{REFERENCE_HEADING}\n\n{section}\n"
    begins, ends = readme.count(BEGIN_MARKER), readme.count(END_MARKER)
    if begins == 0 and ends == 0:
        return f"{readme.rstrip()}\n\n{REFERENCE_HEADING}\n\n{section}\n"
    start, end = readme.find(BEGIN_MARKER), readme.find(END_MARKER)
    if begins != 1 or ends != 1 or end < start:
        raise DocsError(f"expected one {BEGIN_MARKER} followed by one {END_MARKER}")
    return readme[:start] + section + readme[end + len(END_MARKER) :]


def expected_readme(directory: Path) -> tuple[Path, str | None, str]:
    """(README path, current text or None, text it should have)."""
    readme = directory / "README.md"
    current = readme.read_text(encoding="utf-8") if readme.is_file() else None
    title = directory.resolve().name
    try:
        wanted = update_readme(current, render_section(load_module(directory)), title)
    except DocsError as exc:
        raise DocsError(f"{readme}: {exc}") from exc
    return readme, current, wanted


def default_directories(root: Path) -> list[Path]:
    dirs = [root]
    for parent in ("modules", "examples"):
        dirs.extend(d for d in sorted((root / parent).glob("*")) if d.is_dir() and terraform_files(d))
    return dirs


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def generate(directories: Sequence[Path]) -> list[Path]:
    """Rewrite every stale README; return the ones changed."""
    changed = []
    for directory in directories:
        readme, current, wanted = expected_readme(directory)
        if current != wanted:
            readme.write_text(wanted, encoding="utf-8")
            changed.append(readme)
    return changed


def check(directories: Sequence[Path]) -> list[tuple[Path, str]]:
    """(README, reason) for every README whose generated section is missing or stale."""
    stale = []
    for directory in directories:
        readme, current, wanted = expected_readme(directory)
        if current is None:
            stale.append((readme, "README.md is missing"))
        elif not has_section(current):
            stale.append((readme, f"no generated section ({BEGIN_MARKER} ... {END_MARKER})"))
        elif current != wanted:
            stale.append((readme, "generated section is out of date"))
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("command", choices=["generate", "check"])
    parser.add_argument("directories", nargs="*", type=Path, help="module/example directories (default: all)")
    args = parser.parse_args(argv)
    directories = args.directories or default_directories(REPO_ROOT)
    try:
        if args.command == "generate":
            changed = generate(directories)
            for readme in changed:
                print(f"updated {_display(readme)}")
            print(f"terraform_docs: {len(changed)} of {len(directories)} README(s) updated")
            return 0
        stale = check(directories)
    except DocsError as exc:
        print(f"terraform_docs: {exc}", file=sys.stderr)
        return 2
    if not stale:
        print(f"terraform_docs: {len(directories)} README(s) up to date")
        return 0
    print("terraform_docs: generated README sections are stale:", file=sys.stderr)
    for readme, reason in stale:
        print(f"  {_display(readme)}: {reason}", file=sys.stderr)
    dirs = " ".join(_display(r.parent) for r, _ in stale)
    print(
        f"Fix: run `make docs` (or `python tools/ci/terraform_docs.py generate {dirs}`) and commit.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
