{{- define "cka-engine.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "cka-engine.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "cka-engine.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "cka-engine.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cka-engine.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "cka-engine.secretName" -}}
{{- default (printf "%s-urls" (include "cka-engine.fullname" .)) .Values.existingSecret -}}
{{- end -}}

{{- define "cka-engine.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The environment every engine container gets: URLs from the Secret, the cluster in-cluster. */}}
{{- define "cka-engine.env" -}}
- name: DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ include "cka-engine.secretName" . }}, key: DATABASE_URL } }
- name: REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ include "cka-engine.secretName" . }}, key: REDIS_URL } }
- name: DB_MIGRATIONS_RUN
  value: "false"
- name: ENGINE_NAMESPACE
  value: {{ .Values.engineNamespace | quote }}
- name: QUESTIONS_DIR
  value: /app/questions
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{/* Writable places on a read-only root: the data folder and /tmp (kubectl's cache). */}}
{{- define "cka-engine.volumeMounts" -}}
- { name: data, mountPath: /app/data }
- { name: tmp, mountPath: /tmp }
{{- end -}}

{{- define "cka-engine.volumes" -}}
- { name: data, emptyDir: {} }
- { name: tmp, emptyDir: { medium: Memory, sizeLimit: 64Mi } }
{{- end -}}

{{- define "cka-engine.migrateContainer" -}}
- name: migrate
  image: {{ include "cka-engine.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: [dist/src/database/migration-cli.js, run]
  env:
    {{- include "cka-engine.env" . | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  resources:
    {{- toYaml .Values.migrations.resources | nindent 4 }}
  volumeMounts:
    {{- include "cka-engine.volumeMounts" . | nindent 4 }}
{{- end -}}

{{- define "cka-engine.validate" -}}
{{- if and (not .Values.existingSecret) (not .Values.database.url) (not .Values.dev.postgresql.enabled) -}}
{{- fail "set database.url (postgres://…), existingSecret, or dev.postgresql.enabled: the split API and workers need PostgreSQL" -}}
{{- end -}}
{{- if and (not .Values.existingSecret) (not .Values.redis.url) (not .Values.dev.redis.enabled) -}}
{{- fail "set redis.url (redis://…), existingSecret, or dev.redis.enabled" -}}
{{- end -}}
{{- end -}}
