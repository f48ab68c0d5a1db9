// Command kube-apiserver is the upstream Kubernetes API server, built from
// the pinned k8s.io/kubernetes module so the Bulkhead test harness can run
// a real control plane without containers. It adds nothing of its own: it
// builds the upstream cobra command and runs it through component-base's
// CLI runner, exactly as the release binary does.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
