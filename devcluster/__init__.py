"""The development cluster: real Kubernetes on this machine for the demo and the tests.

``controlplane`` runs etcd + kube-apiserver on loopback (objects are stored and
admitted, never run); ``node`` runs a whole one-node cluster (kubelet,
containerd, CoreDNS) in a network namespace of its own (root); ``pki`` makes
throwaway certificates; ``registration`` registers the webhook;
``webhookserver`` runs the real ``bulkhead serve``; ``installation`` installs
the CRDs and RBAC and runs ``bulkhead operator``; ``demo`` is ``make demo``.

Everything here does I/O (processes, files, loopback HTTPS). It is not part of
the installed ``webhook`` package: it runs from a checkout, like the tests.
"""
