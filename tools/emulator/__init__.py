"""The local AWS the tests, `make demo` and `make bench` run against: moto's server, patched, in this process.

``server`` starts it (``Emulator``) and applies the patches, which live with their AWS service:
``eventbridge``, ``stepfunctions``, ``awslambda``, ``kms``, ``sqs``, ``s3``, ``sesv2``, ``sns`` and
``apigateway`` (v2 and the WebSocket management API). What moto cannot do at all is played here in Python:
``lambda_service`` runs deployed functions in-process, ``event_source_poller`` is Lambda's SQS poller,
``pipes`` renders EventBridge Pipes templates. ``topic_reader`` and ``inventory`` read what the emulator
holds; ``terraform`` deploys an example to it; ``account`` is the fake account everything runs in.

Nothing here imports from ``tests/``: the tests import this package, not the other way round.
"""
