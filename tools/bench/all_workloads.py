"""Every workload the bench measures, in report order (``workloads`` defines the shape and the patterns'
handlers, ``service_workloads`` the notification service's; both only import downwards, never this)."""

from __future__ import annotations

from tools.bench.digest_workloads import DIGEST_WORKLOADS
from tools.bench.inbox_workloads import INBOX_WORKLOADS
from tools.bench.scheduling_workloads import SCHEDULING_WORKLOADS
from tools.bench.service_workloads import SERVICE_WORKLOADS
from tools.bench.workloads import ROOT_ACTIVITY, S3_OBJECT_NOTIFIER, Workload

WORKLOADS: tuple[Workload, ...] = (
    ROOT_ACTIVITY,
    S3_OBJECT_NOTIFIER,
    *SERVICE_WORKLOADS,
    *INBOX_WORKLOADS,
    *SCHEDULING_WORKLOADS,
    *DIGEST_WORKLOADS,
)
QUICK_WORKLOADS: tuple[Workload, ...] = tuple(workload for workload in WORKLOADS if workload.quick)
