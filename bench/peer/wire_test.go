package main

import (
	"bytes"
	"slices"
	"testing"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resource "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/proto"
)

// The hand-written requests are the bytes protobuf writes for the same messages.
func TestRequestsAsProtobufWritesThem(t *testing.T) {
	names := []string{"outbound|80||a.ns-01.svc.cluster.local", "b"}
	for _, c := range []struct {
		got  rawRequest
		want proto.Message
	}{
		{sotwRequest(resource.EndpointType, "", names, ""), &discovery.DiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNames: names}},
		{sotwRequest(resource.ClusterType, "v1", nil, "7"), &discovery.DiscoveryRequest{TypeUrl: resource.ClusterType, VersionInfo: "v1", ResponseNonce: "7"}},
		{sotwRequest(resource.RouteType, "v2", names, "12"), &discovery.DiscoveryRequest{TypeUrl: resource.RouteType, VersionInfo: "v2", ResourceNames: names, ResponseNonce: "12"}},
		{deltaRequest(resource.ListenerType, nil, nil, ""), &discovery.DeltaDiscoveryRequest{TypeUrl: resource.ListenerType}},
		{deltaRequest(resource.ClusterType, nil, nil, "3"), &discovery.DeltaDiscoveryRequest{TypeUrl: resource.ClusterType, ResponseNonce: "3"}},
		{deltaRequest(resource.EndpointType, names, names[1:], ""), &discovery.DeltaDiscoveryRequest{TypeUrl: resource.EndpointType, ResourceNamesSubscribe: names, ResourceNamesUnsubscribe: names[1:]}},
	} {
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(c.got, want) {
			t.Errorf("%v: got %x, want %x", c.want, []byte(c.got), want)
		}
	}
}

func TestDirtyPool(t *testing.T) {
	p := &dirtyPool{}
	for _, n := range []int{0, 1, 2, 3, 4, 5, 16 << 10, 16<<10 + 1, 4 << 20, 4<<20 + 1} {
		b := p.Get(n)
		if len(*b) != n || cap(*b) < n {
			t.Errorf("Get(%d): len %d cap %d", n, len(*b), cap(*b))
		}
		p.Put(b)
	}
	z := []byte{}
	p.Put(&z)
}

// diff gives what the set difference gives, in the same orders.
func TestDiff(t *testing.T) {
	sets := [][]string{nil, {}, {"a"}, {"b"}, {"a", "b", "c"}, {"b", "d"}, {"a", "c", "e", "f"}}
	for _, have := range sets {
		for _, want := range sets {
			var add, drop []string
			for _, n := range want {
				if !slices.Contains(have, n) {
					add = append(add, n)
				}
			}
			for _, n := range have {
				if !slices.Contains(want, n) {
					drop = append(drop, n)
				}
			}
			gotAdd, gotDrop := diff(have, want)
			if !slices.Equal(gotAdd, add) || !slices.Equal(gotDrop, drop) {
				t.Errorf("diff(%v, %v) = %v, %v; want %v, %v", have, want, gotAdd, gotDrop, add, drop)
			}
		}
	}
}
