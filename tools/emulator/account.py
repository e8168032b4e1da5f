"""The fake account every emulated call runs in: its id, region and credentials, and the environment that
keeps in-process AWS code away from a developer's real profile."""

from __future__ import annotations

ACCOUNT_ID = "123456789012"  # moto's default account
DEFAULT_REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# The environment every in-process test and measurement runs AWS code in: fake credentials, one region,
# and never a developer's real profile or config.
FAKE_AWS_ENV = {
    **FAKE_CREDENTIALS,
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": DEFAULT_REGION,
    "AWS_REGION": DEFAULT_REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
}

# Services whose endpoints the Terraform provider override points at the emulator.
