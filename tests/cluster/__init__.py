"""The real-cluster test harness: etcd + kube-apiserver on loopback, with PKI.

``controlplane`` owns the processes and the CLI tools, ``pki`` the
throwaway certificates; ``test_controlplane`` checks the harness itself.
"""
