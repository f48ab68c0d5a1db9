"""The Bulkhead operator: policy status, webhook TLS and caBundle, and the policy CRDs.

``running.main(flags, environ)`` runs ``bulkhead operator``; ``add_arguments``
adds its flags to an argparse parser and ``resolve`` reads them (the
CustomResourceDefinitions are built in ``policy.crds``).
Importing this package starts nothing and does not load kopf (only
``running`` and ``handlers`` do), so other commands start fast.
"""

from webhook.operator.settings import Settings, add_arguments, resolve
from webhook.settingsources import SettingsError

__all__ = ["Settings", "SettingsError", "add_arguments", "resolve"]
