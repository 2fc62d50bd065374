// Package observability tests what igconnect ships for monitoring it: the Prometheus alert
// rules (charts/igconnect/files/alerts.yaml, run by promtool against their unit tests), their
// runbook links into docs/observability.md, and the Grafana dashboard
// (charts/igconnect/files/dashboard.json), whose every query must parse and name only
// metrics the manager registers.
package observability
