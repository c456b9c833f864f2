// The generator reads responses from the wire itself: grpc-go's proto codec unmarshalled every
// response in full (a Resource and an Any per resource, their bytes copied), which made the
// generator — not the server under test — the limit of the initial sync and the storm. What a
// simulated sidecar needs of a response is its type, nonce, version, resource names (Delta)
// and, for clusters and listeners, the EDS and RDS names to subscribe to next; those are read
// once per distinct resource (memoised by its bytes: every proxy of a group gets the same
// ones). Requests are still marshalled by protobuf. Both servers get the same generator.
package main

import (
	"errors"
	"hash/maphash"
	"sort"
	"sync"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	resource "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

type rawResource struct {
	name string // Delta: Resource.name (SotW: "")
	// What the resource names of the next type: a cluster's EDS service name, a listener's
	// RDS route config names. Shared between proxies: never modify.
	next []string
}

// rawResponse is a DiscoveryResponse (delta false) or DeltaDiscoveryResponse (delta true).
type rawResponse struct {
	delta                   bool
	typeURL, nonce, version string
	resources               []rawResource
	removed                 []string
}

// rawCodec reads *rawResponse from the wire and marshals everything else with protobuf.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) { return proto.Marshal(v.(proto.Message)) }

func (rawCodec) Unmarshal(data []byte, v any) error {
	r, ok := v.(*rawResponse)
	if !ok {
		return proto.Unmarshal(data, v.(proto.Message))
	}
	*r = rawResponse{delta: r.delta}
	return r.parse(data)
}

var errMalformed = errors.New("malformed response")

// fields calls f for each length-delimited field of b (others skipped).
func fields(b []byte, f func(num protowire.Number, v []byte)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return errMalformed
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return errMalformed
		}
		f(num, v)
		b = b[n:]
	}
	return nil
}

func (r *rawResponse) parse(data []byte) error {
	// Resources come before type_url on the wire: keep their bytes (valid during Unmarshal only) until it is known.
	var items [][]byte
	err := fields(data, func(num protowire.Number, v []byte) {
		switch num {
		case 1:
			r.version = string(v)
		case 2:
			items = append(items, v)
		case 4:
			r.typeURL = string(v)
		case 5:
			r.nonce = string(v)
		case 6:
			if r.delta {
				r.removed = append(r.removed, string(v))
			}
		}
	})
	if err != nil {
		return err
	}
	r.resources = make([]rawResource, 0, len(items))
	for _, item := range items {
		var res rawResource
		anyBytes := item
		if r.delta { // Resource{name = 3, resource = 2 (Any)}
			anyBytes = nil
			if err := fields(item, func(num protowire.Number, v []byte) {
				switch num {
				case 2:
					anyBytes = v
				case 3:
					res.name = string(v)
				}
			}); err != nil {
				return err
			}
		}
		if r.typeURL == resource.ClusterType || r.typeURL == resource.ListenerType {
			var value []byte
			if err := fields(anyBytes, func(num protowire.Number, v []byte) {
				if num == 2 {
					value = v
				}
			}); err != nil {
				return err
			}
			res.next = nextNames(r.typeURL, value)
		}
		r.resources = append(r.resources, res)
	}
	return nil
}

var (
	nextMu   sync.Mutex
	nextMemo = map[uint64][]string{}
	seed     = maphash.MakeSeed()
)

// nextNames: what one cluster or listener (its serialized bytes) names of the next type, memoised by those bytes.
func nextNames(typeURL string, value []byte) []string {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(typeURL)
	_, _ = h.Write(value)
	key := h.Sum64()
	nextMu.Lock()
	names, ok := nextMemo[key]
	nextMu.Unlock()
	if ok {
		return names
	}
	if typeURL == resource.ClusterType {
		names = clusterEds(value)
	} else {
		names = listenerRds(value)
	}
	nextMu.Lock()
	if len(nextMemo) > 100000 {
		clear(nextMemo)
	}
	nextMemo[key] = names
	nextMu.Unlock()
	return names
}

func clusterEds(value []byte) []string {
	var c cluster.Cluster
	if proto.Unmarshal(value, &c) != nil || c.GetType() != cluster.Cluster_EDS {
		return nil
	}
	if n := c.GetEdsClusterConfig().GetServiceName(); n != "" {
		return []string{n}
	}
	return []string{c.Name}
}

func listenerRds(value []byte) []string {
	var l listener.Listener
	if proto.Unmarshal(value, &l) != nil {
		return nil
	}
	chains := append([]*listener.FilterChain{}, l.FilterChains...)
	if l.DefaultFilterChain != nil {
		chains = append(chains, l.DefaultFilterChain)
	}
	var names []string
	for _, fc := range chains {
		for _, f := range fc.Filters {
			var h hcm.HttpConnectionManager
			if f.GetTypedConfig() == nil || f.GetTypedConfig().UnmarshalTo(&h) != nil {
				continue
			}
			if n := h.GetRds().GetRouteConfigName(); n != "" {
				names = append(names, n)
			}
		}
	}
	return names
}

// nextOf: the sorted, distinct names a set of resources names of the next type.
func nextOf(resources []rawResource) []string {
	seen := map[string]bool{}
	for _, r := range resources {
		for _, n := range r.next {
			seen[n] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
