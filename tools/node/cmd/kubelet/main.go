// Command kubelet is the upstream Kubernetes node agent, built from the
// pinned k8s.io/kubernetes module for the Bulkhead test node. It adds nothing
// of its own: it builds the upstream cobra command and runs it through
// component-base's CLI runner, as the release binary does.
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kubelet/app"
)

func main() {
	os.Exit(cli.Run(app.NewKubeletCommand(context.Background())))
}
