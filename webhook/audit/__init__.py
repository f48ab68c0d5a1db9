"""The background audit: existing workloads judged like admissions, reported as PolicyReports.

``workloads``, ``reports``, ``store`` and ``settings`` are pure; ``controller``
lists, watches and writes; ``events`` posts Events; ``command`` is
``bulkhead audit`` (loaded only when that command runs).
"""
