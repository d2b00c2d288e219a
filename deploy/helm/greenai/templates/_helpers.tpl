{{- define "greenai.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "greenai.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "greenai.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "greenai.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "greenai.selectorLabels" -}}
app.kubernetes.io/name: {{ include "greenai.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "greenai.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "greenai.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "greenai.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "greenai.secretName" -}}
{{- default (printf "%s-credentials" (include "greenai.fullname" .)) .Values.existingSecret }}
{{- end }}

{{- define "greenai.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "greenai.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* One variable from the credentials Secret; optional keys may be absent from it. */}}
{{- define "greenai.secretEnv" -}}
- name: {{ .key }}
  valueFrom:
    secretKeyRef:
      name: {{ include "greenai.secretName" .root }}
      key: {{ .key }}
      optional: {{ .optional }}
{{- end }}

{{/* What every process reads: the servers, the topics, the metrics port, the home. */}}
{{- define "greenai.env" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ .Values.kafka.bootstrapServers | quote }}
- name: KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.kafka.securityProtocol | quote }}
{{- if hasPrefix "SASL" .Values.kafka.securityProtocol }}
- name: KAFKA_SASL_MECHANISM
  value: {{ .Values.kafka.saslMechanism | quote }}
{{ include "greenai.secretEnv" (dict "root" . "key" "KAFKA_SASL_USERNAME" "optional" false) }}
{{ include "greenai.secretEnv" (dict "root" . "key" "KAFKA_SASL_PASSWORD" "optional" false) }}
{{- end }}
{{ include "greenai.secretEnv" (dict "root" . "key" "DATABASE_URL" "optional" false) }}
{{ include "greenai.secretEnv" (dict "root" . "key" "REDIS_URL" "optional" false) }}
- name: GREENAI_TOPIC_PREFIX
  value: {{ .Values.topicPrefix | quote }}
- name: GREENAI_PARTITIONS
  value: {{ .Values.partitions | quote }}
- name: GREENAI_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: GREENAI_METRICS_PORT
  value: {{ .Values.metricsPort | quote }}
- name: GREENAI_METRICS_HOST
  value: "0.0.0.0"
- name: GREENAI_HOME
  value: /var/lib/greenai
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The pod's writable places (the root filesystem is read-only): the home and /tmp. */}}
{{- define "greenai.volumes" -}}
- name: home
  emptyDir:
    sizeLimit: {{ .sizeLimit }}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- end }}

{{- define "greenai.volumeMounts" -}}
- name: home
  mountPath: /var/lib/greenai
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* The pod spec's parts that every greenai pod shares. */}}
{{- define "greenai.podCommon" -}}
serviceAccountName: {{ include "greenai.serviceAccountName" . }}
automountServiceAccountToken: false
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
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
{{- end }}

{{/* Roll the pods when the credentials the chart makes change. */}}
{{- define "greenai.podAnnotations" -}}
{{- if not .Values.existingSecret }}
checksum/credentials: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}
