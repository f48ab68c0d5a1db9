{{/*
Names, labels, the image reference, the pod-level pieces every Bulkhead Pod
shares, and the checks that refuse contradictory values. Every define is
named bulkhead.*.

Object names are fixed: one Bulkhead runs per cluster (its webhook
configuration, ClusterRoles and CRDs are cluster-wide), and the operator's
RBAC (files/rbac, copied from manifests/rbac) grants access to these exact
names.
*/}}

{{/* The Service the apiserver calls, and the name its certificate carries. */}}
{{- define "bulkhead.serviceName" -}}bulkhead{{- end -}}

{{/* The ValidatingWebhookConfiguration, and the one webhook in it. */}}
{{- define "bulkhead.webhookConfigurationName" -}}bulkhead{{- end -}}
{{- define "bulkhead.webhookName" -}}validate.bulkhead.dev{{- end -}}

{{/* The Secrets the operator writes: the serving certificate and the CA. */}}
{{- define "bulkhead.tlsSecretName" -}}bulkhead-webhook-tls{{- end -}}
{{- define "bulkhead.caSecretName" -}}bulkhead-webhook-ca{{- end -}}

{{/* With certManager.enabled: the Certificate for the Service, and the self-signed Issuer. */}}
{{- define "bulkhead.certificateName" -}}bulkhead-webhook{{- end -}}
{{- define "bulkhead.selfSignedIssuerName" -}}bulkhead-selfsigned{{- end -}}

{{/* ServiceAccounts, as named in files/rbac. */}}
{{- define "bulkhead.webhookServiceAccountName" -}}bulkhead-webhook{{- end -}}
{{- define "bulkhead.operatorServiceAccountName" -}}bulkhead-operator{{- end -}}

{{/* The Deployments (and their PDB, NetworkPolicies and ServiceMonitors). */}}
{{- define "bulkhead.webhookDeploymentName" -}}bulkhead-webhook{{- end -}}
{{- define "bulkhead.operatorDeploymentName" -}}bulkhead-operator{{- end -}}
{{- define "bulkhead.auditDeploymentName" -}}bulkhead-audit{{- end -}}

{{/* The chart label value: name-version. */}}
{{- define "bulkhead.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "bulkhead.labels" -}}
app.kubernetes.io/name: bulkhead
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: bulkhead
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "bulkhead.chart" . }}
{{- end -}}

{{/* Selector labels of one component; call with (dict "root" $ "component" "webhook"). */}}
{{- define "bulkhead.selectorLabels" -}}
app.kubernetes.io/name: bulkhead
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of one component's objects; same arguments as bulkhead.selectorLabels. */}}
{{- define "bulkhead.componentLabels" -}}
{{ include "bulkhead.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The image reference: by digest when one is given, else by tag (default: the appVersion). */}}
{{- define "bulkhead.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository ($image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/*
Pod metadata a component's values add: call with (dict "root" $ "component"
"webhook" "values" .Values.webhook). The chart's labels win over podLabels,
so the Deployment's selector always matches.
*/}}
{{- define "bulkhead.podMetadata" -}}
{{- $labels := merge (include "bulkhead.componentLabels" (dict "root" .root "component" .component) | fromYaml) (deepCopy .values.podLabels) -}}
labels:
  {{- toYaml $labels | nindent 2 }}
{{- with .values.podAnnotations }}
annotations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
Where a component's Pods may run, from its values: priority class, pull
secrets, node selector, tolerations, affinity (given in "affinity", already
merged with any defaults) and topology spread (a constraint without
labelSelector selects the component's own Pods). Same arguments as
bulkhead.podMetadata plus "affinity".
*/}}
{{- define "bulkhead.podPlacement" -}}
{{- with .values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
{{- $selector := dict "matchLabels" (include "bulkhead.selectorLabels" (dict "root" $.root "component" $.component) | fromYaml) }}
topologySpreadConstraints:
{{- range . }}
{{- $constraint := deepCopy . }}
{{- if not (hasKey $constraint "labelSelector") }}
{{- $_ := set $constraint "labelSelector" $selector }}
{{- end }}
  - {{- toYaml $constraint | nindent 4 }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Extra environment variables of a component's container (its values' extraEnv). */}}
{{- define "bulkhead.extraEnv" -}}
{{- with .extraEnv }}
env:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Namespaces the webhook is never called for: kube-system, the release namespace, extras. */}}
{{- define "bulkhead.exemptNamespaces" -}}
{{- $names := list "kube-system" .Release.Namespace -}}
{{- range .Values.webhook.excludeNamespaces -}}
{{- $names = append $names . -}}
{{- end -}}
{{- toJson (uniq $names) -}}
{{- end -}}

{{/* Pod security context shared by every Bulkhead Pod (restricted profile and more). */}}
{{- define "bulkhead.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container security context shared by every Bulkhead container. */}}
{{- define "bulkhead.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
privileged: false
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
The API credentials of a Pod that talks to the apiserver. Pods set
automountServiceAccountToken: false and mount this projected volume only
into the container that needs it: a short-lived, audience-bound token, the
cluster CA and the namespace, exactly where client libraries look.
*/}}
{{- define "bulkhead.apiTokenVolume" -}}
- name: api-token
  projected:
    defaultMode: 0444
    sources:
      - serviceAccountToken:
          path: token
          expirationSeconds: 3600
      - configMap:
          name: kube-root-ca.crt
          items:
            - key: ca.crt
              path: ca.crt
      - downwardAPI:
          items:
            - path: namespace
              fieldRef:
                fieldPath: metadata.namespace
{{- end -}}
{{- define "bulkhead.apiTokenMount" -}}
- name: api-token
  mountPath: /var/run/secrets/kubernetes.io/serviceaccount
  readOnly: true
{{- end -}}

{{/* A small writable /tmp (the root filesystem is read-only). */}}
{{- define "bulkhead.tmpVolume" -}}
- name: tmp
  emptyDir:
    medium: Memory
    sizeLimit: 16Mi
{{- end -}}
{{- define "bulkhead.tmpMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{/* Values that contradict each other, or the chart's guarantees: fail with the reason. */}}
{{- /*
The webhook's documented worst-case memory in MiB (docs/server.md, "Memory"):
the front (88) plus every body it may hold (webhook.bodyBudgetMiB) plus, per
worker, its base and the largest review it may decode at once (176).
*/ -}}
{{- define "bulkhead.webhookWorstCaseMi" -}}
{{- add 88 .Values.webhook.bodyBudgetMiB (mul .Values.webhook.workers 176) -}}
{{- end -}}

{{- define "bulkhead.validate" -}}
{{- $v := .Values -}}
{{- $stop := add $v.webhook.preStopSleepSeconds $v.webhook.shutdownTimeoutSeconds -}}
{{- if le (int $v.webhook.terminationGracePeriodSeconds) (int $stop) -}}
{{- fail (printf "webhook.terminationGracePeriodSeconds (%d) must exceed webhook.preStopSleepSeconds + webhook.shutdownTimeoutSeconds (%d), or in-flight reviews are killed." (int $v.webhook.terminationGracePeriodSeconds) (int $stop)) -}}
{{- end -}}
{{- if and $v.webhook.podDisruptionBudget.enabled (le (int $v.webhook.replicas) (int $v.webhook.podDisruptionBudget.minAvailable)) -}}
{{- fail (printf "webhook.podDisruptionBudget.minAvailable (%d) must be below webhook.replicas (%d), or no node could ever be drained; raise replicas or disable the budget." (int $v.webhook.podDisruptionBudget.minAvailable) (int $v.webhook.replicas)) -}}
{{- end -}}
{{- if eq (int $v.webhook.probePort) (int $v.webhook.containerPort) -}}
{{- fail (printf "webhook.probePort and webhook.containerPort are both %d: give them different ports." (int $v.webhook.probePort)) -}}
{{- end -}}
{{- if and $v.webhook.mutualTLS.enabled (not $v.webhook.mutualTLS.clientCASecret) -}}
{{- fail "webhook.mutualTLS.enabled needs webhook.mutualTLS.clientCASecret: the Secret whose ca.crt signs the apiserver's client certificate." -}}
{{- end -}}
{{- $memory := toString $v.webhook.resources.limits.memory -}}
{{- $limitMi := 0 -}}
{{- if hasSuffix "Gi" $memory -}}{{- $limitMi = mul (int (trimSuffix "Gi" $memory)) 1024 -}}
{{- else if hasSuffix "Mi" $memory -}}{{- $limitMi = int (trimSuffix "Mi" $memory) -}}
{{- else -}}{{- fail (printf "webhook.resources.limits.memory %q: give it in Mi or Gi." $memory) -}}
{{- end -}}
{{- $worstMi := include "bulkhead.webhookWorstCaseMi" . | int -}}
{{- if lt $limitMi $worstMi -}}
{{- fail (printf "webhook.resources.limits.memory (%dMi) is below the server's worst case for %d workers and a %dMiB body budget (%dMi, docs/server.md): raise it or lower webhook.workers." $limitMi (int $v.webhook.workers) (int $v.webhook.bodyBudgetMiB) $worstMi) -}}
{{- end -}}
{{- if eq (int $v.operator.metricsPort) (int $v.operator.healthPort) -}}
{{- fail (printf "operator.metricsPort and operator.healthPort are both %d: give them different ports." (int $v.operator.metricsPort)) -}}
{{- end -}}
{{- if has .Release.Namespace (list "default" "kube-system" "kube-public" "kube-node-lease") -}}
{{- fail (printf "install Bulkhead into a namespace of its own, not %q (helm install/template -n bulkhead-system): the release namespace is exempt from the webhook." .Release.Namespace) -}}
{{- end -}}
{{- if has $v.test.namespace (fromJsonArray (include "bulkhead.exemptNamespaces" .)) -}}
{{- fail (printf "test.namespace %q is exempt from the webhook (kube-system, the release namespace and webhook.excludeNamespaces are), so helm test could never see a verdict there." $v.test.namespace) -}}
{{- end -}}
{{- if and $v.serviceMonitor.enabled (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) -}}
{{- fail "serviceMonitor.enabled needs the Prometheus Operator's CRDs (monitoring.coreos.com/v1 ServiceMonitor); with helm template pass --api-versions monitoring.coreos.com/v1/ServiceMonitor." -}}
{{- end -}}
{{- if and $v.prometheusRule.enabled (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PrometheusRule")) -}}
{{- fail "prometheusRule.enabled needs the Prometheus Operator's CRDs (monitoring.coreos.com/v1 PrometheusRule); with helm template pass --api-versions monitoring.coreos.com/v1/PrometheusRule." -}}
{{- end -}}
{{- if and $v.certManager.enabled (not (.Capabilities.APIVersions.Has "cert-manager.io/v1/Certificate")) -}}
{{- fail "certManager.enabled needs cert-manager (its cert-manager.io/v1 CRDs); with helm template pass --api-versions cert-manager.io/v1/Certificate." -}}
{{- end -}}
{{- range $name := list "webhook" "operator" -}}
{{- range (index $v $name).extraArgs -}}
{{- $flag := regexReplaceAll "=.*" . "" -}}
{{- if has $flag (list "--tls-cert-file" "--tls-private-key-file" "--namespace" "--certificates") -}}
{{- fail (printf "%s.extraArgs: %s is set by the chart (it must match the objects the chart installs); use the chart's values instead." $name $flag) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
