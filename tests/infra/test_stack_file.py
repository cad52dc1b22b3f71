"""The example stack file deploys as written: on any backend, with plain AWS credentials, and
pointing at documentation that exists."""

from __future__ import annotations

import re

import yaml  # type: ignore[import-untyped]  # PyYAML comes with pulumi, without stubs

from tests.infra.pulumi_harness import PROJECT, PROJECT_ROOT

STACK_FILE = PROJECT_ROOT / "Pulumi.dev.yaml"
DOCS = {
    "README": PROJECT_ROOT / "README.md",
    "docs/operations.md": PROJECT_ROOT / "docs" / "operations.md",
}
# The settings the program reads, from tx_config itself (integer("x", ...), cfg.get("x"), ...).
SETTINGS = set(
    re.findall(
        r'(?:integer|cfg\.get\w*|_strings|_boolean)\((?:cfg, )?"(\w+)"',
        (PROJECT_ROOT / "infra" / "tx_config.py").read_text(),
    )
)


def stack() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(STACK_FILE.read_text())
    return loaded


def test_no_esc_environment_is_imported() -> None:
    # An `environment:` import fails on a self-managed backend and without that environment.
    assert "environment" not in stack()
    assert set(stack()) <= {"config", "encryptionsalt", "secretsprovider", "encryptedkey"}


def test_the_config_holds_the_region_and_known_settings_only() -> None:
    assert {"memorySize", "reconcileSchedule", "emailTo", "lakeEnabled"} <= SETTINGS
    config = stack()["config"]
    assert isinstance(config, dict)
    assert config["aws:region"]
    for key in config:
        namespace, _, name = key.partition(":")
        assert namespace in {"aws", PROJECT}, key
        if namespace == PROJECT:
            assert name in SETTINGS, key
    # the commented examples name real settings too
    for example in re.findall(r"#\s*txsummary:(\w+):", STACK_FILE.read_text()):
        assert example in SETTINGS, example


def test_the_stack_file_points_at_sections_that_exist() -> None:
    # Given references written as  <document>: "<heading>"
    references = re.findall(r'(README|docs/operations\.md): "([^"]+)"', STACK_FILE.read_text())
    assert references, "the stack file points at no documentation"
    for document, heading in references:
        headings = re.findall(r"^#{2,3} (.+)$", DOCS[document].read_text(), re.MULTILINE)
        # Then each names a heading of that document
        assert heading in headings, (document, heading)


def test_the_docs_show_esc_as_an_opt_in() -> None:
    operations = DOCS["docs/operations.md"].read_text()
    assert "### Opt-in: Pulumi ESC" in operations
    assert "pulumi login --local" in operations
    assert "environment:\n  - aws-dev" in operations
