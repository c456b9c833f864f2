// The generator reads responses from the wire itself: grpc-go's proto codec unmarshalled every
// response in full (a Resource and an Any per resource, their bytes copied), which made the
// generator — not the server under test — the limit of the initial sync and the storm. What a
// simulated sidecar needs of a response is its type, nonce, version, resource names (Delta)
// and, for clusters and listeners, the EDS and RDS names to subscribe to next; those are read
// once per distinct resource (memoised by its bytes: every proxy of a group gets the same
// ones), straight from grpc's receive buffers (a CodecV2: no copy of the message). Requests
// after the first are written by hand (rawRequest): the bytes protobuf would write for them
// (wire_test.go), without its reflection. Both servers get the same generator.
package main

import (
	"errors"
	"hash/maphash"
	"math/bits"
	"slices"
	"sync"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	resource "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// rawResource: what a stream keeps of a cluster or listener (other types: nothing).
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
	resources               []rawResource // clusters and listeners only
	removed                 []string
}

// rawRequest is a DiscoveryRequest or DeltaDiscoveryRequest already serialized.
type rawRequest []byte

// rawCodec reads *rawResponse from the wire, sends rawRequest as it is and marshals everything
// else with protobuf. A CodecV2: grpc hands over its receive buffers (freed after Unmarshal)
// instead of a fresh copy of each message (the V1 bridge copies; a 10k sync receives ≈ 1.3 GB).
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	if b, ok := v.(rawRequest); ok {
		return mem.BufferSlice{mem.SliceBuffer(b)}, nil
	}
	b, err := proto.Marshal(v.(proto.Message))
	return mem.BufferSlice{mem.SliceBuffer(b)}, err
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	var b []byte
	if len(data) == 1 {
		b = data[0].ReadOnlyData()
	} else {
		buf := data.MaterializeToBuffer(buffers)
		defer buf.Free()
		b = buf.ReadOnlyData()
	}
	r, ok := v.(*rawResponse)
	if !ok {
		return proto.Unmarshal(b, v.(proto.Message))
	}
	*r = rawResponse{delta: r.delta}
	return r.parse(b)
}

// buffers is grpc's buffer pool for the generator's connections (experimental.WithBufferPool)
// and its own: grpc's default pool clears every buffer it hands out (5 % of the generator's CPU
// in a 10k sync), which a reader that only reads the bytes written into it does not need.
var buffers = &dirtyPool{}

type dirtyPool struct{ tiers [23]sync.Pool } // 1 B .. 4 MiB, powers of two

func (p *dirtyPool) Get(n int) *[]byte {
	i := bits.Len(uint(max(n, 1) - 1))
	if i >= len(p.tiers) {
		b := make([]byte, n)
		return &b
	}
	b, _ := p.tiers[i].Get().(*[]byte)
	if b == nil {
		b = new([]byte)
		*b = make([]byte, 1<<i)
	}
	*b = (*b)[:n]
	return b
}

func (p *dirtyPool) Put(b *[]byte) {
	c := cap(*b)
	if i := bits.Len(uint(c)) - 1; c > 0 && c == 1<<i && i < len(p.tiers) {
		p.tiers[i].Put(b)
	}
}

// sotwRequest: DiscoveryRequest{version_info = 1, resource_names = 3, type_url = 4,
// response_nonce = 5}, fields in number order and empty strings left out, as protobuf writes it.
func sotwRequest(typeURL, version string, names []string, nonce string) rawRequest {
	b := make([]byte, 0, stringsSize(version, typeURL, nonce)+namesSize(names))
	b = appendString(b, 1, version)
	b = appendNames(b, 3, names)
	b = appendString(b, 4, typeURL)
	return appendString(b, 5, nonce)
}

// deltaRequest: DeltaDiscoveryRequest{type_url = 2, resource_names_subscribe = 3,
// resource_names_unsubscribe = 4, response_nonce = 6}.
func deltaRequest(typeURL string, sub, unsub []string, nonce string) rawRequest {
	b := make([]byte, 0, stringsSize(typeURL, nonce)+namesSize(sub)+namesSize(unsub))
	b = appendString(b, 2, typeURL)
	b = appendNames(b, 3, sub)
	b = appendNames(b, 4, unsub)
	return appendString(b, 6, nonce)
}

// appendString appends a proto3 string field (left out when empty, as protobuf does).
func appendString(b []byte, num protowire.Number, s string) []byte {
	if s == "" {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// appendNames appends a repeated string field (every element, empty or not, as protobuf does).
func appendNames(b []byte, num protowire.Number, names []string) []byte {
	for _, n := range names {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		b = protowire.AppendString(b, n)
	}
	return b
}

// The exact sizes (fields numbered below 16: one byte of tag), so that a request is one allocation.
func stringsSize(ss ...string) int {
	n := 0
	for _, s := range ss {
		if s != "" {
			n += 1 + protowire.SizeBytes(len(s))
		}
	}
	return n
}

func namesSize(names []string) int {
	n := 0
	for _, s := range names {
		n += 1 + protowire.SizeBytes(len(s))
	}
	return n
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

// items holds a response's resource bytes while it is parsed (reused: a 10k sync parses ≈ 40,000 responses).
var items = sync.Pool{New: func() any { return new([][]byte) }}

func (r *rawResponse) parse(data []byte) error {
	// Resources come before type_url on the wire: keep their bytes (valid during Unmarshal only) until it is known.
	held := items.Get().(*[][]byte)
	defer func() {
		clear(*held)
		*held = (*held)[:0]
		items.Put(held)
	}()
	err := fields(data, func(num protowire.Number, v []byte) {
		switch num {
		case 1:
			r.version = string(v)
		case 2:
			*held = append(*held, v)
		case 4:
			r.typeURL = typeOf(v)
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
	// Only clusters and listeners name what to subscribe to next; what a stream does with an
	// endpoint or route response depends on its type, version and nonce alone.
	if r.typeURL != resource.ClusterType && r.typeURL != resource.ListenerType {
		return nil
	}
	r.resources = make([]rawResource, 0, len(*held))
	for _, item := range *held {
		res, err := resourceOf(r.typeURL, r.delta, item)
		if err != nil {
			return err
		}
		r.resources = append(r.resources, res)
	}
	return nil
}

// typeOf: the type URL, without a new string for the four a sidecar asks for.
func typeOf(v []byte) string {
	for _, t := range [...]string{resource.ClusterType, resource.EndpointType, resource.ListenerType, resource.RouteType} {
		if string(v) == t {
			return t
		}
	}
	return string(v)
}

var (
	resMu   sync.Mutex
	resMemo = map[uint64]rawResource{}
	seed    = maphash.MakeSeed()
)

// resourceOf: a cluster's or listener's name (Delta) and what it names of the next type, read
// once per distinct resource bytes (an Any in SotW, a Resource in Delta) and shared after.
func resourceOf(typeURL string, delta bool, item []byte) (rawResource, error) {
	var h maphash.Hash
	h.SetSeed(seed)
	h.WriteString(typeURL)
	_, _ = h.Write(item)
	key := h.Sum64()
	resMu.Lock()
	res, ok := resMemo[key]
	resMu.Unlock()
	if ok {
		return res, nil
	}
	anyBytes := item
	if delta { // Resource{name = 3, resource = 2 (Any)}
		anyBytes = nil
		if err := fields(item, func(num protowire.Number, v []byte) {
			switch num {
			case 2:
				anyBytes = v
			case 3:
				res.name = string(v)
			}
		}); err != nil {
			return res, err
		}
	}
	var value []byte // Any{type_url = 1, value = 2}
	if err := fields(anyBytes, func(num protowire.Number, v []byte) {
		if num == 2 {
			value = v
		}
	}); err != nil {
		return res, err
	}
	if typeURL == resource.ClusterType {
		res.next = clusterEds(value)
	} else {
		res.next = listenerRds(value)
	}
	resMu.Lock()
	if len(resMemo) > 100000 {
		clear(resMemo)
	}
	resMemo[key] = res
	resMu.Unlock()
	return res, nil
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
	n := 0
	for _, r := range resources {
		n += len(r.next)
	}
	names := make([]string, 0, n)
	for _, r := range resources {
		names = append(names, r.next...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}
