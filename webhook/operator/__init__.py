"""The Bulkhead operator: policy status, webhook TLS and caBundle, and the policy CRDs.

``command.main(flags, environ)`` runs ``bulkhead operator``; ``TABLE``
declares its settings (the ``bulkhead`` parser derives the flags from it)
and ``resolve`` reads them (the CustomResourceDefinitions are built in
``policy.crds``).
Importing this package starts nothing and does not load kopf (only
``command`` and ``handlers`` do), so other commands start fast.
"""

from webhook.operator.settings import TABLE, Settings, resolve
from webhook.settingtable import SettingsError

__all__ = ["TABLE", "Settings", "SettingsError", "resolve"]
