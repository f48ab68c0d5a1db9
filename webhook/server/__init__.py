"""The admission webhook server, split by process. Importing this package starts nothing.

* ``front/``: the ``bulkhead serve`` process: one event loop that reads every
  request whole under deadlines and limits, judges small reviews itself and
  gives the rest to worker processes (``serve(settings)``);
* ``app/``: a worker process: the Flask app (``create_app(settings, state)``,
  the only way it is made) answering what the front sends it;
* shared by both: ``settings`` (``resolve(flags, environ)``), ``reviews`` (a
  review's answer), ``decoding``, ``bounds``, ``loaded`` and ``reloading``
  (what a process judges with), ``metrics``, ``logs``, ``tls``, ``frames``.
"""

from webhook.server.app.factory import create_app
from webhook.server.front.serving import ServeError, serve
from webhook.server.loaded import State
from webhook.server.settings import Settings, resolve
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
