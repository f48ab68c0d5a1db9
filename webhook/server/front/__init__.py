"""The front process of ``bulkhead serve``: the event loop every client talks to.

``serving`` runs the process; ``listener`` accepts connections and
``connection`` reads each request whole (TLS in ``handshake``); ``routes``
answers, judges small reviews in the loop or hands the rest to ``pool``'s
worker processes; ``answers`` are the bodies the front writes itself.
"""
