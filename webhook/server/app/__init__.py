"""A worker process of ``bulkhead serve``: the Flask app and the loop that feeds it requests.

``factory`` makes the app; ``worker`` is the process's entry point.
"""
