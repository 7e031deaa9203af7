{{/*
Names are those 'tether-agent register' (and karmadactl register) give the member objects,
so that 'tether-agent unregister' and 'karmadactl unregister' find them too.
*/}}
{{- define "tether-agent.agentName" -}}karmada-agent{{- end }}
{{- define "tether-agent.serviceAccountName" -}}karmada-agent-sa{{- end }}
{{- define "tether-agent.registerName" -}}karmada-agent-register{{- end }}
{{- define "tether-agent.tokenSecretName" -}}
{{- .Values.bootstrap.existingTokenSecret | default "karmada-agent-bootstrap-token" }}
{{- end }}
{{- define "tether-agent.kubeconfigVolume" -}}karmada-kubeconfig{{- end }}
{{- define "tether-agent.kubeconfigMountDir" -}}/etc/kubeconfig{{- end }}

{{/* The Secret with the hub kubeconfig: register's, or the user's. */}}
{{- define "tether-agent.kubeconfigSecretName" -}}
{{- if eq .Values.mode "existingSecret" }}{{ .Values.existingSecret.name }}{{ else }}karmada-kubeconfig{{ end }}
{{- end }}
{{- define "tether-agent.kubeconfigSecretKey" -}}
{{- if eq .Values.mode "existingSecret" }}{{ .Values.existingSecret.key }}{{ else }}karmada-kubeconfig{{ end }}
{{- end }}

{{- define "tether-agent.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tether-agent.clusterName" -}}
{{- required "clusterName is required: the name of this member on the hub" .Values.clusterName }}
{{- end }}

{{- define "tether-agent.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "tether-agent.labels" -}}
helm.sh/chart: {{ include "tether-agent.chart" . }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tether
{{- end }}

{{/* Labels of the objects register labels karmada.io/system. */}}
{{- define "tether-agent.systemLabels" -}}
karmada.io/system: "true"
{{ include "tether-agent.labels" . }}
{{- end }}

{{/* The agent's pods; app is register's selector. */}}
{{- define "tether-agent.selectorLabels" -}}
app: {{ include "tether-agent.agentName" . }}
{{- end }}

{{/* Pod security context of the agent and the register Job, register's. */}}
{{- define "tether-agent.podSecurityContext" -}}
fsGroup: 65532
runAsGroup: 65532
runAsNonRoot: true
runAsUser: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "tether-agent.containerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop: ["ALL"]
readOnlyRootFilesystem: true
{{- end }}

{{/* Scheduling settings shared by the agent and the register Job. */}}
{{- define "tether-agent.scheduling" -}}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* 'tether-agent run' flags, in register's order (karmada-agent's names). */}}
{{- define "tether-agent.runArgs" -}}
- --karmada-kubeconfig={{ include "tether-agent.kubeconfigMountDir" . }}/{{ include "tether-agent.kubeconfigSecretKey" . }}
{{- if eq .Values.mode "bootstrap" }}
- --karmada-context={{ include "tether-agent.clusterName" . }}@karmada-apiserver
{{- else if .Values.existingSecret.context }}
- --karmada-context={{ .Values.existingSecret.context }}
{{- end }}
- --cluster-name={{ include "tether-agent.clusterName" . }}
- --cluster-api-endpoint={{ .Values.cluster.apiEndpoint }}
{{- with .Values.cluster.provider }}
- --cluster-provider={{ . }}
{{- end }}
{{- with .Values.cluster.region }}
- --cluster-region={{ . }}
{{- end }}
{{- with .Values.cluster.zones }}
- --cluster-zones={{ join "," . }}
{{- end }}
{{- with .Values.cluster.proxyServerAddress }}
- --proxy-server-address={{ . }}
{{- end }}
- --cluster-namespace={{ .Values.clusterNamespace }}
- --karmada-kubeconfig-namespace={{ .Release.Namespace }}
- --leader-elect-resource-namespace={{ .Values.leaderElection.namespace | default .Release.Namespace }}
- --metrics-bind-address=:8080
- --health-probe-bind-address=:10357
- --controllers={{ join "," .Values.controllers }}
{{- with .Values.logFormat }}
- --log-format={{ . }}
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}
