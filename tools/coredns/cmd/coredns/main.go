// Command coredns is the upstream CoreDNS server with only the plugins the
// Bulkhead test node's cluster DNS uses: the kubernetes plugin answers
// cluster.local from the API server, the rest are the usual companions of a
// cluster's Corefile. Upstream's main imports every plugin (cloud DNS
// providers included); importing fewer keeps the build small. The plugin
// order is upstream's (core/dnsserver), whatever the import order here.
package main

import (
	"github.com/coredns/coredns/coremain"
	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() {
	coremain.Run()
}
