{{/* Labels on every object the chart creates. */}}
{{- define "meshlet.labels" -}}
app.kubernetes.io/name: meshlet
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: meshlet
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Selector of the operator pods: stable across upgrades, so never includes the version. */}}
{{- define "meshlet.selectorLabels" -}}
app.kubernetes.io/name: meshlet
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{/* The one image reference: digest wins over tag; tag defaults to appVersion. */}}
{{- define "meshlet.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* host:port of the operator's config push + CA endpoint, as sidecars dial it. */}}
{{- define "meshlet.operatorAddress" -}}
meshlet.{{ .Release.Namespace }}.svc:15012
{{- end }}

{{/* Namespaces never injected: kube-system, the install namespace, and the user's list. */}}
{{- define "meshlet.excludedNamespaces" -}}
{{- $ns := list "kube-system" "meshlet-system" .Release.Namespace -}}
{{- $ns = concat $ns .Values.injection.excludeNamespaces | uniq -}}
{{- toJson $ns -}}
{{- end }}

{{/*
A namespaceSelector for one injection webhook entry: the given label requirements, the
exclusions, and the user's extra selector. Called with (dict "root" $ "exprs" list).
*/}}
{{- define "meshlet.namespaceSelector" -}}
{{- $root := .root -}}
{{- $exprs := list (dict "key" "kubernetes.io/metadata.name" "operator" "NotIn" "values" (include "meshlet.excludedNamespaces" $root | fromJsonArray)) -}}
{{- $exprs = concat .exprs $exprs $root.Values.injection.namespaceSelector.matchExpressions -}}
{{- $sel := dict "matchExpressions" $exprs -}}
{{- with $root.Values.injection.namespaceSelector.matchLabels }}
{{- $_ := set $sel "matchLabels" . -}}
{{- end }}
{{- toYaml $sel -}}
{{- end }}

{{/* Mesh-wide settings (ConfigMap meshlet-mesh); also hashed into the Deployment. */}}
{{- define "meshlet.meshConfig" -}}
trustDomain: {{ .Values.trustDomain }}
rootNamespace: {{ .Release.Namespace }}
accessLog:
  enabled: {{ .Values.accessLog.enabled }}
tracing:
  endpoint: {{ .Values.tracing.endpoint | quote }}
  samplingPercent: {{ .Values.tracing.samplingPercent }}
ca:
  existingSecret: {{ .Values.ca.existingSecret }}
  rootTTL: {{ .Values.ca.rootTTL }}
  workloadCertTTL: {{ .Values.ca.workloadCertTTL }}
webhooks:
  mutating: meshlet-sidecar-injector
  validating: {{ if .Values.validation.enabled }}meshlet-validator{{ else }}""{{ end }}
sidecarConfigMap: meshlet-sidecar-injector
{{- end }}
