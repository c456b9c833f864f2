// CoreDNS for the local node's cluster DNS, with only the plugins its Corefile uses
// (e2e/cluster/node/coredns.yaml): the upstream binary links about sixty, most of them
// cloud backends. Plugins register themselves in their package init; the directive order
// still comes from CoreDNS's own list (core/dnsserver), so nothing here orders them.
package main

import (
	"github.com/coredns/coredns/coremain"

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
