// Command etcd is the upstream etcd server at the version the pinned
// Kubernetes release requires (the 3.6 line), built from the Go module
// proxy for the Bulkhead test harness. It only hands its arguments to
// etcdmain, the same entry point the release binary uses.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
