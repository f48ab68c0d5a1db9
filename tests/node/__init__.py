"""Tests on a real node: the image built here, a one-node cluster, the chart installed with helm."""
