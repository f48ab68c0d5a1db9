"""The development cluster's own tests (the harness itself lives in ``devcluster``)."""
