{{/*
Names. With the release "igconnect" the object names are those of config/default
(igconnect-controller-manager, igconnect-manager-role, ...).
*/}}
{{- define "igconnect.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "igconnect.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "igconnect.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "igconnect.labels" -}}
helm.sh/chart: {{ include "igconnect.chart" . }}
app.kubernetes.io/name: {{ include "igconnect.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The labels that select the manager's pods; they never change on upgrade. */}}
{{- define "igconnect.selectorLabels" -}}
app.kubernetes.io/name: {{ include "igconnect.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end }}

{{- define "igconnect.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (printf "%s-controller-manager" (include "igconnect.fullname" .)) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "igconnect.appSecretName" -}}
{{- default (printf "%s-instagram-app" (include "igconnect.fullname" .)) .Values.appCredentials.secretName }}
{{- end }}

{{/* The image: repository@digest, else repository:tag (the tag defaults to appVersion). */}}
{{- define "igconnect.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The host of publicURL, for the Ingress. */}}
{{- define "igconnect.publicHost" -}}
{{- default (urlParse .Values.publicURL).hostname .Values.callback.ingress.host }}
{{- end }}

{{/*
The --connection-namespace to pass, or "" for the manager's default (its own namespace). With
watchNamespaces the manager refuses a connection namespace it does not watch, so the release
namespace, when not watched, gives way to the first watched namespace.
*/}}
{{- define "igconnect.connectionNamespace" -}}
{{- $watched := .Values.watchNamespaces }}
{{- if .Values.connectionNamespace }}
{{- if and $watched (not (has .Values.connectionNamespace $watched)) }}
{{- fail (printf "connectionNamespace %q must be one of watchNamespaces (%s): logins create their connections there" .Values.connectionNamespace (join ", " $watched)) }}
{{- end }}
{{- .Values.connectionNamespace }}
{{- else if and $watched (not (has .Release.Namespace $watched)) }}
{{- first $watched }}
{{- end }}
{{- end }}
