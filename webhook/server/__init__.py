"""The admission webhook server: Flask app, TLS front, certificate and policy reload, metrics.

``create_app(settings, state)`` builds the Flask app (the only entry point
to it); ``serve(settings)`` runs ``bulkhead serve``. Settings come from
``resolve(flags, environ)``. Importing this package starts nothing.
"""

from webhook.server.app import create_app
from webhook.server.serving import ServeError, serve
from webhook.server.settings import Settings, resolve
from webhook.server.state import State
from webhook.settingtable import SettingsError

__all__ = [
    "ServeError",
    "Settings",
    "SettingsError",
    "State",
    "create_app",
    "resolve",
    "serve",
]
