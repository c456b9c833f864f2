{{/* Names. fullname is capped at 48 characters so "<fullname>-metrics" and friends stay within 63. */}}
{{- define "weft.name" -}}
{{- .Chart.Name | trunc 48 | trimSuffix "-" -}}
{{- end -}}

{{- define "weft.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 48 | trimSuffix "-" -}}
{{- else if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 48 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 48 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The control-plane namespace: the release namespace (install with -n weft-system). */}}
{{- define "weft.namespace" -}}
{{- .Release.Namespace -}}
{{- end -}}

{{- define "weft.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "weft.fullname" .) -}}
{{- end -}}

{{- define "weft.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "weft.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: weft
{{- end -}}

{{- define "weft.selectorLabels" -}}
app.kubernetes.io/name: {{ include "weft.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end -}}

{{- define "weft.external" -}}
{{- if .Values.controlPlane.external.enabled }}true{{ end -}}
{{- end -}}

{{/* Resource names shared by RBAC (resourceNames), the webhooks and the controller's environment. */}}
{{- define "weft.injectWebhookName" -}}{{ include "weft.fullname" . }}-inject{{- end -}}
{{- define "weft.validateWebhookName" -}}{{ include "weft.fullname" . }}-validate{{- end -}}
{{- define "weft.webhookServiceName" -}}{{ include "weft.fullname" . }}-webhook{{- end -}}
{{- define "weft.injectValuesName" -}}{{ include "weft.fullname" . }}-inject-values{{- end -}}

{{/* Namespaces no webhook ever intercepts: the system ones and the control plane's own (so it can always restart). */}}
{{- define "weft.excludedNamespaces" -}}
{{- $ns := list "kube-system" "kube-public" "kube-node-lease" (include "weft.namespace" .) -}}
{{- concat $ns .Values.webhooks.excludeNamespaces | uniq | toJson -}}
{{- end -}}

{{/* clientConfig for a webhook path: the Service in cluster, the URL when the control plane runs outside. */}}
{{- define "weft.clientConfig" -}}
{{- $root := index . 0 -}}
{{- $path := index . 1 -}}
{{- if $root.Values.controlPlane.external.enabled }}
url: {{ printf "%s%s" ($root.Values.controlPlane.external.webhookUrl | trimSuffix "/") $path | quote }}
{{- with $root.Values.controlPlane.external.caBundle }}
{{- /* Accept PEM or base64 PEM; the API wants base64. */}}
caBundle: {{ ternary (b64enc .) . (contains "-----BEGIN" .) }}
{{- end }}
{{- else }}
service:
  name: {{ include "weft.webhookServiceName" $root }}
  namespace: {{ include "weft.namespace" $root }}
  path: {{ $path }}
  port: 443
{{- /* No caBundle here: the leader writes it (and keeps it current); Helm's three-way
       merge leaves a field the chart never renders alone on upgrade. */}}
{{- end }}
{{- end -}}

{{- define "weft.cniSelectorLabels" -}}
app.kubernetes.io/name: {{ include "weft.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: cni-node
{{- end -}}

{{- define "weft.cniLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "weft.cniSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: weft
{{- end -}}
