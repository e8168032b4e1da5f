"""IAM enforcement for deployer credentials only: moto's access control, scoped to the keys registered here.

moto authorises a request only once ``INITIAL_NO_AUTH_ACTION_COUNT`` requests have passed, and then it
authorises every request. Switched on for the whole emulator, every caller would need an IAM user's key
and a SigV4 signature: the harness's fixed ``testing`` key (tests' boto3 calls, the in-process Lambda
runner, the event source poller) is no IAM user, and in-process code also sends a session token, which
moto reads as an assumed role it does not know. So the patch applies moto's own check
(``check_signature`` then ``check_action_permitted``, exactly what moto runs once the count is reached)
to requests signed with a registered deployer key, and leaves every other request as before.

What moto's check covers (moto 5.2.5, moto/iam/access_control.py): the signature, and the action against
the Action elements of the user's inline and attached policies, for every service whose responses go
through moto's ``BaseResponse.call_action`` or S3's own hook. Not covered: the Resource element beyond
SQS queues, IAM roles and S3 buckets (for every other service moto asks about resource ``*``), Condition
elements (moto evaluates them only for trust policies), and permissions AWS checks as a side effect of a
call (``iam:PassRole``, KMS grants). ``deployer_policy_for_moto`` therefore widens every statement to
resource ``*``; the resource patterns are proven apart, against the ARNs of the deployed resources.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

from moto.core.authorization import ActionAuthenticatorMixin


@dataclass(frozen=True)
class Call:
    """One authorised (or refused) request of a deployer: moto's ``service:Action`` and resource."""

    action: str
    resource: str
    allowed: bool


@dataclass
class DeployerKeys:
    """The access keys moto authorises, each with the calls it made."""

    calls: dict[str, list[Call]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, access_key_id: str) -> None:
        with self.lock:
            self.calls.setdefault(access_key_id, [])

    def unregister(self, access_key_id: str) -> list[Call]:
        with self.lock:
            return self.calls.pop(access_key_id, [])

    def record(self, access_key_id: str, call: Call) -> None:
        with self.lock:
            self.calls[access_key_id].append(call)

    def restricted(self, access_key_id: str) -> bool:
        return access_key_id in self.calls


DEPLOYER_KEYS = DeployerKeys()


def access_key_id(headers: Mapping[str, str]) -> str | None:
    """The access key of a SigV4 ``Authorization`` header (``... Credential=<key>/<date>/...``)."""
    authorization = headers.get("Authorization") or ""
    _, found, rest = authorization.partition("Credential=")
    return rest.split("/", 1)[0] if found else None


_BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})
# Signing names whose IAM action prefix differs (moto builds the action from the signing name).
_IAM_PREFIX = {"monitoring": "cloudwatch"}
# Operations whose IAM action has another name.
_IAM_NAMES = {"lambda:Invoke": "lambda:InvokeFunction"}
# Bucket subresources moto's S3 action map lacks (it falls back to ListBucket, CreateBucket, DeleteBucket
# for GET, PUT, DELETE) or misspells (``public_access_block``): the IAM action of each method.
_S3_BUCKET_SUBRESOURCES = {
    "encryption": ("s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration"),
    "object-lock": ("s3:GetBucketObjectLockConfiguration", "s3:PutBucketObjectLockConfiguration"),
    "ownershipControls": ("s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls"),
    "publicAccessBlock": ("s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock"),
    "replication": ("s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration"),
    "requestPayment": ("s3:GetBucketRequestPayment", "s3:PutBucketRequestPayment"),
}

# Operation names moto authorises S3 calls under where IAM's action is named differently.
_S3_IAM_NAMES = {
    "CompleteMultipartUpload": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
    "GetBucketAccelerateConfiguration": "GetAccelerateConfiguration",
    "GetBucketCors": "GetBucketCORS",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "HeadBucket": "ListBucket",
    "ListBuckets": "ListAllMyBuckets",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListObjectVersions": "ListBucketVersions",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListParts": "ListMultipartUploadParts",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
}


def iam_action(moto_action: str, method: str, query: str = "", bucket_level: bool = False) -> str:
    """The IAM action of moto's ``<signing name>:<operation>`` for a request (method, query string).

    CloudWatch signs as ``monitoring``; API Gateway's management actions are the HTTP methods
    (``apigateway:POST``), not the operation names moto reports (``apigateway:CreateApi``); moto names some
    S3 calls by their operation (``ListObjectVersions`` is ``s3:ListBucketVersions``), and IAM authorises
    a DELETE of a bucket configuration as its ``Put`` action.
    """
    service, _, operation = moto_action.partition(":")
    if service == "apigateway":
        return f"apigateway:{method}"
    if service == "s3":
        for key in parse_qs(query, keep_blank_values=True) if bucket_level and method != "POST" else ():
            if key in _S3_BUCKET_SUBRESOURCES:
                get, put = _S3_BUCKET_SUBRESOURCES[key]
                return get if method in ("GET", "HEAD") else put
        return f"s3:{_S3_IAM_NAMES.get(operation, operation)}"
    action = f"{_IAM_PREFIX.get(service, service)}:{operation}"
    return _IAM_NAMES.get(action, action)


def deployer_policy_for_moto(policy: Mapping[str, Any]) -> dict[str, Any]:
    """``policy`` as moto can evaluate it: the same actions, every statement on resource ``*``.

    moto matches a statement's Resource against the resource of the request, which it knows only for SQS
    queues, IAM roles and S3 buckets (``*`` otherwise: a scoped pattern would refuse everything else).
    """
    return {
        "Version": policy["Version"],
        "Statement": [
            {
                "Sid": statement["Sid"],
                "Effect": statement["Effect"],
                "Action": statement["Action"],
                "Resource": "*",
            }
            for statement in policy["Statement"]
        ],
    }


def _patch_deployer_enforcement() -> None:
    original: Callable[..., None] = ActionAuthenticatorMixin._authenticate_and_authorize_action

    def authenticate_and_authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        key = access_key_id(self.headers)
        if key is None or not DEPLOYER_KEYS.restricted(key):
            original(self, iam_request_cls, resource)
            return
        # moto's own enforcement, as in ActionAuthenticatorMixin once INITIAL_NO_AUTH_ACTION_COUNT is reached.
        path = self.raw_path
        query = urlparse(self.uri).query
        iam_request = iam_request_cls(
            account_id=self.current_account,
            method=self.method,
            path=f"{path}?{query}" if query else path,
            # For a REST request without a body moto's ``data`` holds the headers, which moto would then
            # sign as a form body: SignatureDoesNotMatch on every GET/DELETE of Lambda, Pipes, API Gateway.
            data=self.data if self.raw_body or self.method not in _BODYLESS_METHODS else {},
            body=self.raw_body,
            headers=self.headers,
            action=self._get_action(),
        )
        iam_request.check_signature()
        bucket_level = resource.startswith("arn:aws:s3:::") and "/" not in resource
        iam_request._action = action = iam_action(iam_request._action, self.method, query, bucket_level)
        try:
            iam_request.check_action_permitted(resource)
        except Exception:
            DEPLOYER_KEYS.record(key, Call(action, resource, allowed=False))
            raise
        DEPLOYER_KEYS.record(key, Call(action, resource, allowed=True))

    ActionAuthenticatorMixin._authenticate_and_authorize_action = authenticate_and_authorize  # type: ignore[method-assign]


@dataclass(frozen=True)
class DeployerCredentials:
    user_name: str
    access_key_id: str
    secret_access_key: str


def create_deployer(iam: Any, user_name: str, policy: Mapping[str, Any]) -> DeployerCredentials:
    """An IAM user holding only ``policy`` (inline, widened for moto), and its key, registered here.

    ``iam``: a client with the harness's (unchecked) credentials.
    """
    iam.create_user(UserName=user_name)
    iam.put_user_policy(
        UserName=user_name, PolicyName="deployer", PolicyDocument=json.dumps(deployer_policy_for_moto(policy))
    )
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    DEPLOYER_KEYS.register(key["AccessKeyId"])
    return DeployerCredentials(user_name, key["AccessKeyId"], key["SecretAccessKey"])


PATCHES: tuple[Callable[[], None], ...] = (_patch_deployer_enforcement,)
