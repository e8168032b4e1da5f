"""One module per pattern shown by `make demo`.

Each module defines ``EXAMPLE`` (the directory under ``examples/``), ``TITLE``, ``VARIABLES`` (the
example's Terraform variables for the demo) and ``show(emulator, outputs)``, which drives the deployed
example and prints what a person would see. ``tools/demo.py`` applies and destroys around it.
"""

PATTERNS = (
    "root_activity_monitor",
    "event_workflow",
    "dynamodb_stream_alerts",
    "s3_object_notifier",
    "notification_service",
)
