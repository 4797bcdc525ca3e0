"""The cluster: a deployment of several hosts on one machine, made of network namespaces, and
the faults it is put through (``make cluster``; the ``cluster`` tests; docs/cluster.md)."""
