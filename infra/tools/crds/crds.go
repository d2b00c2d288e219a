// Package crds pins the Prometheus Operator's API types from which controller-gen (a tool
// of this module) generates the monitoring.coreos.com CRDs, ServiceMonitor among them, the
// way the operator generates its own; infra/tools/k8s_schemas.py turns them into the JSON
// schemas kubeconform checks the Helm chart's ServiceMonitor against.
package crds

import _ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
