"""Whether a value surely has a shape of ``shapes``: generated, do not edit.

Written by ``python tools/generate_shapes.py`` from the table in
``webhook/admission/shapes.py``; ``shapes.Check`` says how it is used.
"""

from __future__ import annotations

from typing import Final

_KNOWN0: Final = frozenset(['hostPath', 'image', 'name'])


def pod_spec(v0: object) -> bool:
    """Whether ``v0`` surely has the shape ``shapes.POD_SPEC``."""
    v1: object
    v2: object
    v3: object
    v4: object
    v5: object
    v6: object
    v7: object
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
            if type(v2) is not dict:
                return False
            v3 = v2.get('name')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('image')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('ports')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('containerPort')
                    if v5 is not None:
                        if type(v5) is not int:
                            return False
                    v5 = v4.get('hostPort')
                    if v5 is not None:
                        if type(v5) is not int:
                            return False
                    v5 = v4.get('hostIP')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('env')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('name')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('value')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('valueFrom')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
            v3 = v2.get('resources')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('limits')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    for v5 in v4.values():
                        if v5 is not None:
                            if type(v5) is not str and type(v5) is not int and type(v5) is not float:
                                return False
                v4 = v3.get('requests')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    for v5 in v4.values():
                        if v5 is not None:
                            if type(v5) is not str and type(v5) is not int and type(v5) is not float:
                                return False
            v3 = v2.get('livenessProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('readinessProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('startupProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('lifecycle')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('postStart')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('httpGet')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('tcpSocket')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                v4 = v3.get('preStop')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('httpGet')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('tcpSocket')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
            v3 = v2.get('securityContext')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('runAsNonRoot')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('runAsUser')
                if v4 is not None:
                    if type(v4) is not int:
                        return False
                v4 = v3.get('runAsGroup')
                if v4 is not None:
                    if type(v4) is not int:
                        return False
                v4 = v3.get('seccompProfile')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('localhostProfile')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('appArmorProfile')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('localhostProfile')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('seLinuxOptions')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('user')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('role')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('level')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('windowsOptions')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('hostProcess')
                    if v5 is not None:
                        if type(v5) is not bool:
                            return False
                    v5 = v4.get('gmsaCredentialSpecName')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('gmsaCredentialSpec')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('runAsUserName')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('privileged')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('allowPrivilegeEscalation')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('readOnlyRootFilesystem')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('procMount')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
                v4 = v3.get('capabilities')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('add')
                    if v5 is not None:
                        if type(v5) is not list:
                            return False
                        for v6 in v5:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('drop')
                    if v5 is not None:
                        if type(v5) is not list:
                            return False
                        for v6 in v5:
                            if type(v6) is not str:
                                return False
    v1 = v0.get('containers')
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
            v3 = v2.get('image')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('ports')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('containerPort')
                    if v5 is not None:
                        if type(v5) is not int:
                            return False
                    v5 = v4.get('hostPort')
                    if v5 is not None:
                        if type(v5) is not int:
                            return False
                    v5 = v4.get('hostIP')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('env')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('name')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('value')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('valueFrom')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
            v3 = v2.get('resources')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('limits')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    for v5 in v4.values():
                        if v5 is not None:
                            if type(v5) is not str and type(v5) is not int and type(v5) is not float:
                                return False
                v4 = v3.get('requests')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    for v5 in v4.values():
                        if v5 is not None:
                            if type(v5) is not str and type(v5) is not int and type(v5) is not float:
                                return False
            v3 = v2.get('livenessProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('readinessProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('startupProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('lifecycle')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('postStart')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('httpGet')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('tcpSocket')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                v4 = v3.get('preStop')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('httpGet')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('tcpSocket')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
            v3 = v2.get('securityContext')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('runAsNonRoot')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('runAsUser')
                if v4 is not None:
                    if type(v4) is not int:
                        return False
                v4 = v3.get('runAsGroup')
                if v4 is not None:
                    if type(v4) is not int:
                        return False
                v4 = v3.get('seccompProfile')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('localhostProfile')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('appArmorProfile')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('localhostProfile')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('seLinuxOptions')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('user')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('role')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('level')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('windowsOptions')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('hostProcess')
                    if v5 is not None:
                        if type(v5) is not bool:
                            return False
                    v5 = v4.get('gmsaCredentialSpecName')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('gmsaCredentialSpec')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('runAsUserName')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('privileged')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('allowPrivilegeEscalation')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('readOnlyRootFilesystem')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('procMount')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
                v4 = v3.get('capabilities')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('add')
                    if v5 is not None:
                        if type(v5) is not list:
                            return False
                        for v6 in v5:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('drop')
                    if v5 is not None:
                        if type(v5) is not list:
                            return False
                        for v6 in v5:
                            if type(v6) is not str:
                                return False
    v1 = v0.get('ephemeralContainers')
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
            v3 = v2.get('image')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('ports')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('containerPort')
                    if v5 is not None:
                        if type(v5) is not int:
                            return False
                    v5 = v4.get('hostPort')
                    if v5 is not None:
                        if type(v5) is not int:
                            return False
                    v5 = v4.get('hostIP')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('env')
            if v3 is not None:
                if type(v3) is not list:
                    return False
                for v4 in v3:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('name')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('value')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('valueFrom')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
            v3 = v2.get('resources')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('limits')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    for v5 in v4.values():
                        if v5 is not None:
                            if type(v5) is not str and type(v5) is not int and type(v5) is not float:
                                return False
                v4 = v3.get('requests')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    for v5 in v4.values():
                        if v5 is not None:
                            if type(v5) is not str and type(v5) is not int and type(v5) is not float:
                                return False
            v3 = v2.get('livenessProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('readinessProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('startupProbe')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('httpGet')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('tcpSocket')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('host')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
            v3 = v2.get('lifecycle')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('postStart')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('httpGet')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('tcpSocket')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                v4 = v3.get('preStop')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('httpGet')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('tcpSocket')
                    if v5 is not None:
                        if type(v5) is not dict:
                            return False
                        v6 = v5.get('host')
                        if v6 is not None:
                            if type(v6) is not str:
                                return False
            v3 = v2.get('securityContext')
            if v3 is not None:
                if type(v3) is not dict:
                    return False
                v4 = v3.get('runAsNonRoot')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('runAsUser')
                if v4 is not None:
                    if type(v4) is not int:
                        return False
                v4 = v3.get('runAsGroup')
                if v4 is not None:
                    if type(v4) is not int:
                        return False
                v4 = v3.get('seccompProfile')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('localhostProfile')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('appArmorProfile')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('localhostProfile')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('seLinuxOptions')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('type')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('user')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('role')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('level')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('windowsOptions')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('hostProcess')
                    if v5 is not None:
                        if type(v5) is not bool:
                            return False
                    v5 = v4.get('gmsaCredentialSpecName')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('gmsaCredentialSpec')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                    v5 = v4.get('runAsUserName')
                    if v5 is not None:
                        if type(v5) is not str:
                            return False
                v4 = v3.get('privileged')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('allowPrivilegeEscalation')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('readOnlyRootFilesystem')
                if v4 is not None:
                    if type(v4) is not bool:
                        return False
                v4 = v3.get('procMount')
                if v4 is not None:
                    if type(v4) is not str:
                        return False
                v4 = v3.get('capabilities')
                if v4 is not None:
                    if type(v4) is not dict:
                        return False
                    v5 = v4.get('add')
                    if v5 is not None:
                        if type(v5) is not list:
                            return False
                        for v6 in v5:
                            if type(v6) is not str:
                                return False
                    v5 = v4.get('drop')
                    if v5 is not None:
                        if type(v5) is not list:
                            return False
                        for v6 in v5:
                            if type(v6) is not str:
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
            if type(v2) is not dict:
                return False
            v3 = v2.get('type')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('localhostProfile')
            if v3 is not None:
                if type(v3) is not str:
                    return False
        v2 = v1.get('appArmorProfile')
        if v2 is not None:
            if type(v2) is not dict:
                return False
            v3 = v2.get('type')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('localhostProfile')
            if v3 is not None:
                if type(v3) is not str:
                    return False
        v2 = v1.get('seLinuxOptions')
        if v2 is not None:
            if type(v2) is not dict:
                return False
            v3 = v2.get('type')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('user')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('role')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('level')
            if v3 is not None:
                if type(v3) is not str:
                    return False
        v2 = v1.get('windowsOptions')
        if v2 is not None:
            if type(v2) is not dict:
                return False
            v3 = v2.get('hostProcess')
            if v3 is not None:
                if type(v3) is not bool:
                    return False
            v3 = v2.get('gmsaCredentialSpecName')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('gmsaCredentialSpec')
            if v3 is not None:
                if type(v3) is not str:
                    return False
            v3 = v2.get('runAsUserName')
            if v3 is not None:
                if type(v3) is not str:
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
    """Whether ``v0`` surely has the shape ``shapes.METADATA``."""
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
