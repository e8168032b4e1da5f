"""S3 object notifier: two uploads and a delete in the deployed bucket become three emails."""

from __future__ import annotations

import html
import re
from typing import Any

from moto.ses.models import ses_backends

from tools.emulator.account import ACCOUNT_ID
from tools.emulator.lambda_service import InProcessLambdaService
from tools.emulator.server import Emulator

EXAMPLE = "s3-object-notifier"
TITLE = "S3 object notifier: S3 object created/removed -> Lambda -> SES v2 email (CMK, TLS-only bucket)"
VARIABLES = {
    "name": "s3-notifier-demo",
    "sender_email": "s3-alerts@example.com",
    "recipients": ["ops@example.com"],
}


def _as_text(body: str) -> list[str]:
    """The HTML part (what the emulator keeps) as the lines a reader sees."""
    text = body.replace("</th>", ": ").replace("</tr>", "\n").replace("</p>", "\n")
    return [html.unescape(line).strip() for line in re.sub(r"<[^>]+>", "", text).splitlines() if line.strip()]


def show(emulator: Emulator, outputs: dict[str, Any]) -> None:
    bucket = outputs["bucket_name"]
    print(f"    bucket   s3://{bucket}  (SSE-KMS {outputs['kms_key_arn']}, versioned, TLS only)")
    print(f"    function {outputs['lambda_function_name']}, SES identity {outputs['ses_identity']}")
    s3 = emulator.client("s3")
    service = InProcessLambdaService(emulator)
    outbox = ses_backends[ACCOUNT_ID][emulator.region].sent_messages
    seen = len(outbox)
    for action, key, body in (
        ("upload", "quarterly report.pdf", b"%PDF-1.7 " + b"x" * 48_000),
        ("upload", "café menu.txt", "Café crème 2,50 €\n".encode()),
        ("delete", "café menu.txt", None),
    ):
        print(f"==> {action} s3://{bucket}/{key}", flush=True)
        if body is None:
            s3.delete_object(Bucket=bucket, Key=key)
        else:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        for result in service.run_pending():
            status = "ok" if result.succeeded else f"FAILED: {result.error}"
            [record] = result.payload["Records"]
            encoded = record["s3"]["object"]["key"]
            name = record["eventName"]
            print(f"    S3 -> Lambda {result.function_name} ({name}, key {encoded!r}): {status}")
        for message in outbox[seen:]:
            print(f"    SES email from {message.source} to {', '.join(message.destinations['ToAddresses'])}")
            print(f"      Subject: {message.subject}")
            for line in _as_text(message.body):
                print(f"      {line}")
        seen = len(outbox)
