"""Whether a value surely has a shape of ``shapes``: generated, do not edit.

Written by ``python tools/generate_shapes.py`` from the table in
``webhook/admission/shapes.py``; ``shapes.Check`` says how it is used.
"""

from __future__ import annotations

from typing import Final

_KNOWN0: Final = frozenset(['hostPath', 'image', 'name'])


def pod_spec(v0: object) -> bool:
    """Whether ``v0`` surely has ``shapes.POD_SPEC``."""
    v1: object
    v2: object
    v3: object
    v4: object
    v5: object
    k2: object
    if type(v0) is not dict:
        return False
    v1 = v0.get('volumes')
    if v1 is not None:
        if type(v1) is not list:
            return False
        for v2 in v1:
            if type(v2) is not dict:
                return False
            v3 = v2.get('name')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('hostPath')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('path')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
                v4 = v3.get('type')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
            v3 = v2.get('image')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('reference')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
            for k2, v3 in v2.items():
                if k2 in _KNOWN0:
                    continue
                if v3 is not None:
                    if type(v3) is not dict:
                        return False
    v1 = v0.get('initContainers')
    if v1 is not None:
        if type(v1) is not list:
            return False
        for v2 in v1:
            if not _container(v2):
                return False
    v1 = v0.get('containers')
    if v1 is not None:
        if type(v1) is not list:
            return False
        for v2 in v1:
            if not _container(v2):
                return False
    v1 = v0.get('ephemeralContainers')
    if v1 is not None:
        if type(v1) is not list:
            return False
        for v2 in v1:
            if not _container(v2):
                return False
    v1 = v0.get('securityContext')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        v2 = v1.get('runAsNonRoot')
        if v2 is not None:
            if type(v2) is not bool:
                return False
        v2 = v1.get('runAsUser')
        if v2 is not None:
            if type(v2) is not int:
                return False
        v2 = v1.get('runAsGroup')
        if v2 is not None:
            if type(v2) is not int:
                return False
        v2 = v1.get('seccompProfile')
        if v2 is not None:
            if not _seccomp(v2):
                return False
        v2 = v1.get('appArmorProfile')
        if v2 is not None:
            if not _seccomp(v2):
                return False
        v2 = v1.get('seLinuxOptions')
        if v2 is not None:
            if not _selinux(v2):
                return False
        v2 = v1.get('windowsOptions')
        if v2 is not None:
            if not _windows(v2):
                return False
        v2 = v1.get('fsGroup')
        if v2 is not None:
            if type(v2) is not int:
                return False
        v2 = v1.get('supplementalGroups')
        if v2 is not None:
            if type(v2) is not list:
                return False
            for v3 in v2:
                if type(v3) is not int:
                    return False
        v2 = v1.get('fsGroupChangePolicy')
        if v2 is not None:
            if type(v2) is not str:
                return False
        v2 = v1.get('supplementalGroupsPolicy')
        if v2 is not None:
            if type(v2) is not str:
                return False
        v2 = v1.get('seLinuxChangePolicy')
        if v2 is not None:
            if type(v2) is not str:
                return False
        v2 = v1.get('sysctls')
        if v2 is not None:
            if type(v2) is not list:
                return False
            for v3 in v2:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('name')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
                v4 = v3.get('value')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
    v1 = v0.get('hostNetwork')
    if v1 is not None:
        if type(v1) is not bool:
            return False
    v1 = v0.get('hostPID')
    if v1 is not None:
        if type(v1) is not bool:
            return False
    v1 = v0.get('hostIPC')
    if v1 is not None:
        if type(v1) is not bool:
            return False
    v1 = v0.get('hostUsers')
    if v1 is not None:
        if type(v1) is not bool:
            return False
    v1 = v0.get('automountServiceAccountToken')
    if v1 is not None:
        if type(v1) is not bool:
            return False
    v1 = v0.get('os')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        v2 = v1.get('name')
        if v2 is not None:
            if type(v2) is not str:
                return False
    return True


def metadata(v0: object) -> bool:
    """Whether ``v0`` surely has ``shapes.METADATA``."""
    v1: object
    v2: object
    v3: object
    if type(v0) is not dict:
        return False
    v1 = v0.get('name')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('generateName')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('namespace')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('labels')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        for v2 in v1.values():
            if v2 is not None:
                if type(v2) is not str:
                    return False
    v1 = v0.get('annotations')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        for v2 in v1.values():
            if v2 is not None:
                if type(v2) is not str:
                    return False
    return True


def _seccomp(v0: object) -> bool:
    """``shapes._SECCOMP``, where the others use it."""
    v1: object
    v2: object
    if type(v0) is not dict:
        return False
    v1 = v0.get('type')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('localhostProfile')
    if v1 is not None:
        if type(v1) is not str:
            return False
    return True


def _selinux(v0: object) -> bool:
    """``shapes._SELINUX``, where the others use it."""
    v1: object
    v2: object
    if type(v0) is not dict:
        return False
    v1 = v0.get('type')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('user')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('role')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('level')
    if v1 is not None:
        if type(v1) is not str:
            return False
    return True


def _windows(v0: object) -> bool:
    """``shapes._WINDOWS``, where the others use it."""
    v1: object
    v2: object
    if type(v0) is not dict:
        return False
    v1 = v0.get('hostProcess')
    if v1 is not None:
        if type(v1) is not bool:
            return False
    v1 = v0.get('gmsaCredentialSpecName')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('gmsaCredentialSpec')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('runAsUserName')
    if v1 is not None:
        if type(v1) is not str:
            return False
    return True


def _handler(v0: object) -> bool:
    """``shapes._HANDLER``, where the others use it."""
    v1: object
    v2: object
    v3: object
    if type(v0) is not dict:
        return False
    v1 = v0.get('httpGet')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        v2 = v1.get('host')
        if v2 is not None:
            if type(v2) is not str:
                return False
    v1 = v0.get('tcpSocket')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        v2 = v1.get('host')
        if v2 is not None:
            if type(v2) is not str:
                return False
    return True


def _container(v0: object) -> bool:
    """``shapes.CONTAINER``, where the others use it."""
    v1: object
    v2: object
    v3: object
    v4: object
    v5: object
    if type(v0) is not dict:
        return False
    v1 = v0.get('name')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('image')
    if v1 is not None:
        if type(v1) is not str:
            return False
    v1 = v0.get('ports')
    if v1 is not None:
        if type(v1) is not list:
            return False
        for v2 in v1:
            if type(v2) is not dict:
                return False
            v3 = v2.get('containerPort')
            if v3 is not None:
                if type(v3) is not int:
                    return False
            v3 = v2.get('hostPort')
            if v3 is not None:
                if type(v3) is not int:
                    return False
            v3 = v2.get('hostIP')
            if v3 is not None:
                if type(v3) is not str:
                    return False
    v1 = v0.get('env')
    if v1 is not None:
        if type(v1) is not list:
            return False
        for v2 in v1:
            if type(v2) is not dict:
                return False
            v3 = v2.get('name')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('value')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('valueFrom')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
    v1 = v0.get('resources')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        v2 = v1.get('limits')
        if v2 is not None:
            if type(v2) is not dict:
                return False
            for v3 in v2.values():
                if v3 is not None:
                    if type(v3) is not str and type(v3) is not int and type(v3) is not float:
                        return False
        v2 = v1.get('requests')
        if v2 is not None:
            if type(v2) is not dict:
                return False
            for v3 in v2.values():
                if v3 is not None:
                    if type(v3) is not str and type(v3) is not int and type(v3) is not float:
                        return False
    v1 = v0.get('livenessProbe')
    if v1 is not None:
        if not _handler(v1):
            return False
    v1 = v0.get('readinessProbe')
    if v1 is not None:
        if not _handler(v1):
            return False
    v1 = v0.get('startupProbe')
    if v1 is not None:
        if not _handler(v1):
            return False
    v1 = v0.get('lifecycle')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        v2 = v1.get('postStart')
        if v2 is not None:
            if not _handler(v2):
                return False
        v2 = v1.get('preStop')
        if v2 is not None:
            if not _handler(v2):
                return False
    v1 = v0.get('securityContext')
    if v1 is not None:
        if type(v1) is not dict:
            return False
        v2 = v1.get('runAsNonRoot')
        if v2 is not None:
            if type(v2) is not bool:
                return False
        v2 = v1.get('runAsUser')
        if v2 is not None:
            if type(v2) is not int:
                return False
        v2 = v1.get('runAsGroup')
        if v2 is not None:
            if type(v2) is not int:
                return False
        v2 = v1.get('seccompProfile')
        if v2 is not None:
            if not _seccomp(v2):
                return False
        v2 = v1.get('appArmorProfile')
        if v2 is not None:
            if not _seccomp(v2):
                return False
        v2 = v1.get('seLinuxOptions')
        if v2 is not None:
            if not _selinux(v2):
                return False
        v2 = v1.get('windowsOptions')
        if v2 is not None:
            if not _windows(v2):
                return False
        v2 = v1.get('privileged')
        if v2 is not None:
            if type(v2) is not bool:
                return False
        v2 = v1.get('allowPrivilegeEscalation')
        if v2 is not None:
            if type(v2) is not bool:
                return False
        v2 = v1.get('readOnlyRootFilesystem')
        if v2 is not None:
            if type(v2) is not bool:
                return False
        v2 = v1.get('procMount')
        if v2 is not None:
            if type(v2) is not str:
                return False
        v2 = v1.get('capabilities')
        if v2 is not None:
            if type(v2) is not dict:
                return False
            v3 = v2.get('add')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not str:
                        return False
            v3 = v2.get('drop')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not str:
                        return False
    return True
