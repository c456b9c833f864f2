// The peer: a small go-control-plane (v0.14) ADS server, SotW and Delta, serving what Weft
// served each proxy group (captured by bench/peer.ts as DiscoveryResponse files, one per
// group and type). Proxies are grouped by the node metadata Weft groups the bench's proxies
// by (namespace and fronted service). Each type has its own version (a hash of its bytes), as
// a careful go-control-plane user sets them, so a change re-sends only the types it touched.
//
//	peer serve -addr 127.0.0.1:0 -dir DIR     prints "listening PORT"; stdin: "load NAME" makes
//	                                          DIR/NAME/ the snapshot of every group ("loaded")
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	resource "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	// Types inside the captured resources that go-control-plane unpacks (HCM for RDS names).
	_ "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/listener/original_dst/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
)

// groupOf keys a node as Weft groups the bench's sidecars.
type groupOf struct{}

func (groupOf) ID(node *core.Node) string {
	if node == nil {
		return ""
	}
	f := node.GetMetadata().GetFields()
	return f["WEFT_NAMESPACE"].GetStringValue() + "_" + f["WEFT_SERVICE"].GetStringValue()
}

var typeFiles = map[string]string{
	resource.ClusterType:  "cds.pb",
	resource.EndpointType: "eds.pb",
	resource.ListenerType: "lds.pb",
	resource.RouteType:    "rds.pb",
}

func loadGroup(dir string) (*cache.Snapshot, error) {
	snap := &cache.Snapshot{}
	for typeURL, file := range typeFiles {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		var res discovery.DiscoveryResponse
		if err := proto.Unmarshal(raw, &res); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		items := make([]types.ResourceWithTTL, 0, len(res.Resources))
		h := sha256.New()
		for _, a := range res.Resources {
			m, err := anypb.UnmarshalNew(a, proto.UnmarshalOptions{})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			items = append(items, types.ResourceWithTTL{Resource: m})
			h.Write(a.Value)
		}
		snap.Resources[cache.GetResponseType(typeURL)] = cache.NewResourcesWithTTL(hex.EncodeToString(h.Sum(nil))[:16], items)
	}
	return snap, nil
}

func loadAll(ctx context.Context, c cache.SnapshotCache, dir string) error {
	groups, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, g := range groups {
		snap, err := loadGroup(filepath.Join(dir, g.Name()))
		if err != nil {
			return fmt.Errorf("%s: %w", g.Name(), err)
		}
		if err := c.SetSnapshot(ctx, g.Name(), snap); err != nil {
			return err
		}
	}
	return nil
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	dir := fs.String("dir", "", "captured snapshots, one directory per version")
	_ = fs.Parse(args)
	ctx := context.Background()
	c := cache.NewSnapshotCache(true, groupOf{}, nil)
	srv := server.NewServer(ctx, c, nil)
	g := grpc.NewServer(
		grpc.MaxConcurrentStreams(1_000_000),
		grpc.MaxRecvMsgSize(64<<20),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{PermitWithoutStream: true}),
	)
	discoverygrpc.RegisterAggregatedDiscoveryServiceServer(g, srv)
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("listening %d\n", lis.Addr().(*net.TCPAddr).Port)
	go func() { _ = g.Serve(lis) }()
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		name, ok := strings.CutPrefix(in.Text(), "load ")
		if !ok {
			continue
		}
		if err := loadAll(ctx, c, filepath.Join(*dir, name)); err != nil {
			fmt.Printf("error %v\n", err)
			continue
		}
		fmt.Println("loaded")
	}
	g.Stop()
	return nil
}
