"""The background audit: existing workloads judged like admissions, reported as PolicyReports.

``workloads``, ``reports`` and ``store`` are pure; ``controller`` lists,
watches and writes; ``command`` is ``bulkhead audit``.
"""

from webhook.audit.command import AuditError, add_arguments, errors, run

__all__ = ["AuditError", "add_arguments", "errors", "run"]
