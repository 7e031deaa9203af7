{{- define "tether-hub.approverName" -}}tether-csr-approver{{- end }}

{{- define "tether-hub.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tether-hub.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "tether-hub.labels" -}}
helm.sh/chart: {{ include "tether-hub.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tether
{{- end }}

{{/* The bootstrap RBAC's label, 'hub init's and Karmada's. */}}
{{- define "tether-hub.bootstrapLabels" -}}
karmada.io/bootstrapping: rbac-defaults
{{ include "tether-hub.labels" . }}
{{- end }}

{{- define "tether-hub.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: approver
{{- end }}
