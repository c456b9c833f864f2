// The load generator: N simulated sidecars, each with its own TCP connection and one ADS
// stream (SotW or Delta), subscribing as Envoy does — CDS wildcard; EDS for the clusters' EDS
// names; once clusters are warm, LDS wildcard; RDS for the route configs the listeners name —
// and ACKing every response. The same binary drives Weft and the peer.
//
//	peer load -addr HOST:PORT -mode sotw|delta -namespaces 10 -services 5 [-ca FILE -tokens FILE]
//	(-ca: TLS trusting that bundle; -tokens: proxy i sends line i as `authorization: Bearer`)
//	stdin:  connect FROM TO    → {"event":"synced","proxies":n,"ms":t,"attempts":a}
//	        arm TYPEURL        → {"event":"armed","proxies":n}   (the next response of that type counts)
//	        collect TIMEOUT_MS → {"event":"collected","acked":[epoch ms...],"missing":m}
//	        storm              → every connection dropped at once and redialled: {"event":"synced",...}
//	        reack K            → every proxy repeats its last request (an ACK) of each type K times:
//	                             {"event":"reacked","requests":n,"ms":t} (the servers' CPU per ACK)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	discoverygrpc "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	resource "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/experimental"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

var attempts atomic.Int64

type sim struct {
	id, ns, svc string
	token       string
	delta       bool
	conn        *grpc.ClientConn
	cancel      context.CancelFunc
	synced      chan struct{}
	syncedAt    atomic.Int64 // unix ns
	armMu       sync.Mutex
	armed       string
	onArmed     func(at int64)
	// mu guards the stream's send side and what it last sent; reack repeats those requests.
	mu    sync.Mutex
	reack func() int
	// The first request of a stream (with the node), serialized once: the storm reopens it.
	first rawRequest
}

func (s *sim) hello(req func() proto.Message) rawRequest {
	if s.first == nil {
		s.first, _ = proto.Marshal(req())
	}
	return s.first
}

func node(s *sim) *core.Node {
	md, _ := structpb.NewStruct(map[string]any{"WEFT_NAMESPACE": s.ns, "WEFT_SERVICE": s.svc, "WEFT_PROXY_KIND": "sidecar"})
	return &core.Node{Id: s.id, Cluster: s.svc, UserAgentName: "envoy", Metadata: md}
}

// tlsCreds is set by -ca: every connection is TLS (the deployed mode of the peer bench).
var tlsCreds credentials.TransportCredentials

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}
func (bearer) RequireTransportSecurity() bool { return true }

// readBufferSize: each read of a connection takes up to this much of what is waiting (grpc's
// default 32 KiB; a proxy's initial responses are ≈ 130 KiB).
const readBufferSize = 256 << 10

func dial(addr, token string) (*grpc.ClientConn, error) {
	transport := grpc.WithTransportCredentials(insecure.NewCredentials())
	// Plaintext only: grpc pools a plain TCP connection's read buffer while it is empty, but
	// gives a TLS connection a buffer of its own (10k × 256 KiB).
	extra := []grpc.DialOption{grpc.WithReadBufferSize(readBufferSize)}
	if tlsCreds != nil {
		extra = nil
		transport = grpc.WithTransportCredentials(tlsCreds)
		if token != "" {
			extra = append(extra, grpc.WithPerRPCCredentials(bearer(token)))
		}
	}
	return grpc.NewClient(addr, append(extra, transport,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(256<<20)),
		grpc.WithInitialWindowSize(256<<20), grpc.WithInitialConnWindowSize(256<<20), // Envoy's defaults
		experimental.WithBufferPool(buffers),
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			attempts.Add(1)
			return (&net.Dialer{}).DialContext(ctx, "tcp", a)
		}))...)
}

func (s *sim) noteResponse(typeURL string) {
	s.armMu.Lock()
	hit := s.armed == typeURL
	if hit {
		s.armed = ""
	}
	s.armMu.Unlock()
	if hit {
		s.onArmed(time.Now().UnixMilli())
	}
}

func (s *sim) runSotw(ctx context.Context, synced func()) error {
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(s.conn).StreamAggregatedResources(ctx, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}
	names := map[string][]string{}
	version := map[string]string{}
	nonce := map[string]string{}
	send := func(t string) error {
		return st.SendMsg(sotwRequest(t, version[t], names[t], nonce[t]))
	}
	s.mu.Lock()
	s.reack = func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for t := range nonce {
			if send(t) == nil {
				n++
			}
		}
		return n
	}
	err = st.SendMsg(s.hello(func() proto.Message { return &discovery.DiscoveryRequest{Node: node(s), TypeUrl: resource.ClusterType} }))
	s.mu.Unlock()
	if err != nil {
		return err
	}
	ldsAsked, done := false, false
	for {
		r := &rawResponse{}
		if err := st.RecvMsg(r); err != nil {
			return err
		}
		if err := s.sotwResponse(r, names, version, nonce, send, &ldsAsked, &done, synced); err != nil {
			return err
		}
	}
}

func (s *sim) sotwResponse(r *rawResponse, names map[string][]string, version, nonce map[string]string, send func(string) error, ldsAsked, done *bool, synced func()) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	{
		t := r.typeURL
		nonce[t] = r.nonce
		if t == resource.ClusterType {
			if n := nextOf(r.resources); !slices.Equal(n, names[resource.EndpointType]) || version[resource.EndpointType] == "" && nonce[resource.EndpointType] == "" {
				names[resource.EndpointType] = n
				if err := send(resource.EndpointType); err != nil {
					return err
				}
			}
		}
		if t == resource.ListenerType {
			if n := nextOf(r.resources); !slices.Equal(n, names[resource.RouteType]) || nonce[resource.RouteType] == "" {
				names[resource.RouteType] = n
				if err := send(resource.RouteType); err != nil {
					return err
				}
			}
		}
		version[t] = r.version
		if err := send(t); err != nil {
			return err
		}
		if t == resource.EndpointType && !*ldsAsked {
			*ldsAsked = true
			if err := send(resource.ListenerType); err != nil {
				return err
			}
		}
		s.noteResponse(t)
		if !*done && version[resource.ClusterType] != "" && version[resource.EndpointType] != "" && version[resource.ListenerType] != "" && version[resource.RouteType] != "" {
			*done = true
			synced()
		}
	}
	return nil
}

func (s *sim) runDelta(ctx context.Context, synced func()) error {
	st, err := discoverygrpc.NewAggregatedDiscoveryServiceClient(s.conn).DeltaAggregatedResources(ctx, grpc.ForceCodecV2(rawCodec{}))
	if err != nil {
		return err
	}
	known := map[string]map[string]rawResource{}
	subscribed := map[string][]string{}
	got := map[string]bool{}
	lastNonce := map[string]string{}
	s.mu.Lock()
	s.reack = func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		n := 0
		for t, nc := range lastNonce {
			if st.SendMsg(deltaRequest(t, nil, nil, nc)) == nil {
				n++
			}
		}
		return n
	}
	err = st.SendMsg(s.hello(func() proto.Message {
		return &discovery.DeltaDiscoveryRequest{Node: node(s), TypeUrl: resource.ClusterType}
	}))
	s.mu.Unlock()
	if err != nil {
		return err
	}
	resubscribe := func(t string, want []string) error {
		sub, unsub := diff(subscribed[t], want)
		if len(sub) == 0 && len(unsub) == 0 && subscribed[t] != nil {
			return nil
		}
		subscribed[t] = want
		return s.locked(func() error {
			return st.SendMsg(deltaRequest(t, sub, unsub, ""))
		})
	}
	ldsAsked, done := false, false
	for {
		r := &rawResponse{delta: true}
		if err := st.RecvMsg(r); err != nil {
			return err
		}
		s.mu.Lock()
		lastNonce[r.typeURL] = r.nonce
		s.mu.Unlock()
		t := r.typeURL
		// Only clusters and listeners name what to subscribe to next (EDS, RDS): the stream
		// keeps what it holds of those two types only.
		if t == resource.ClusterType || t == resource.ListenerType {
			m := known[t]
			if m == nil {
				m = make(map[string]rawResource, len(r.resources))
				known[t] = m
			}
			for _, res := range r.resources {
				m[res.name] = res
			}
			for _, n := range r.removed {
				delete(m, n)
			}
			all := make([]rawResource, 0, len(m))
			for _, res := range m {
				all = append(all, res)
			}
			next := resource.EndpointType
			if t == resource.ListenerType {
				next = resource.RouteType
			}
			if err := resubscribe(next, nextOf(all)); err != nil {
				return err
			}
		}
		if err := s.locked(func() error { return st.SendMsg(deltaRequest(t, nil, nil, r.nonce)) }); err != nil {
			return err
		}
		got[t] = true
		if t == resource.EndpointType && !ldsAsked {
			ldsAsked = true
			if err := s.locked(func() error { return st.SendMsg(deltaRequest(resource.ListenerType, nil, nil, "")) }); err != nil {
				return err
			}
		}
		s.noteResponse(t)
		if !done && got[resource.ClusterType] && got[resource.EndpointType] && got[resource.ListenerType] && got[resource.RouteType] {
			done = true
			synced()
		}
	}
}

// diff: the names want adds to have (in want's order) and those it drops (in have's order); both
// sorted and distinct, as nextOf returns them.
func diff(have, want []string) (add, drop []string) {
	i, j := 0, 0
	for i < len(have) || j < len(want) {
		switch {
		case j == len(want) || i < len(have) && have[i] < want[j]:
			drop = append(drop, have[i])
			i++
		case i == len(have) || want[j] < have[i]:
			add = append(add, want[j])
			j++
		default:
			i++
			j++
		}
	}
	return add, drop
}

func (s *sim) locked(f func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return f()
}

func (s *sim) start(addr string, problems chan<- string) error {
	conn, err := dial(addr, s.token)
	if err != nil {
		return err
	}
	s.conn = conn
	synced := make(chan struct{})
	var once sync.Once
	markSynced := func() {
		once.Do(func() {
			s.syncedAt.Store(time.Now().UnixNano())
			close(synced)
		})
	}
	s.synced = synced
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	// A failed stream is opened again after a second, as Envoy does (its backoff starts at
	// 0.5-1 s); the connection redials on its own. Without this, a dial that timed out under
	// load left a proxy unsynced until the 10-minute deadline.
	go func() {
		for ctx.Err() == nil {
			var err error
			if s.delta {
				err = s.runDelta(ctx, markSynced)
			} else {
				err = s.runSotw(ctx, markSynced)
			}
			if ctx.Err() != nil || err == nil {
				return
			}
			select {
			case problems <- fmt.Sprintf("%s: %v (retrying)", s.id, err):
			default:
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return nil
}

func (s *sim) stop() {
	s.cancel()
	_ = s.conn.Close()
}

type out map[string]any

func emit(o out) {
	b, _ := json.Marshal(o)
	fmt.Println(string(b))
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	addr := fs.String("addr", "", "xDS server")
	mode := fs.String("mode", "sotw", "sotw or delta")
	namespaces := fs.Int("namespaces", 10, "")
	services := fs.Int("services", 5, "")
	caFile := fs.String("ca", "", "TLS: the server's trust bundle (PEM)")
	tokensFile := fs.String("tokens", "", "bearer tokens, one line per proxy")
	cpuProfile := fs.String("cpuprofile", os.Getenv("WEFT_PEER_CPUPROFILE"), "write a CPU profile of the load generator (file name gets .<pid>)")
	_ = fs.Parse(args)
	if *cpuProfile != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", *cpuProfile, os.Getpid()))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		// The bench ends the generator with SIGTERM right after "quit": finish the profile first.
		term := make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM)
		go func() {
			<-term
			pprof.StopCPUProfile()
			os.Exit(0)
		}()
	}
	var tokens []string
	if *caFile != "" {
		c, err := credentials.NewClientTLSFromFile(*caFile, "")
		if err != nil {
			return err
		}
		tlsCreds = c
	}
	if *tokensFile != "" {
		b, err := os.ReadFile(*tokensFile)
		if err != nil {
			return err
		}
		tokens = strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	var sims []*sim
	var mu sync.Mutex
	var acked []int64
	var pending atomic.Int64
	problems := make(chan string, 100)
	connect := func(batch []*sim) {
		t0, a0 := time.Now(), attempts.Load()
		for _, s := range batch {
			if err := s.start(*addr, problems); err != nil {
				emit(out{"event": "error", "error": err.Error()})
			}
		}
		deadline := time.After(10 * time.Minute)
		n := 0
	wait:
		for _, s := range batch {
			select {
			case <-s.synced:
				n++
			case <-deadline:
				break wait
			}
		}
		var ps []string
		for len(problems) > 0 {
			ps = append(ps, <-problems)
		}
		// When the proxies were synced, from the start: stragglers (a long tail) or a steady rate.
		var at []float64
		for _, s := range batch {
			if ns := s.syncedAt.Load(); ns >= t0.UnixNano() {
				at = append(at, float64(ns-t0.UnixNano())/1e6)
			}
		}
		sort.Float64s(at)
		pct := func(p float64) float64 {
			if len(at) == 0 {
				return 0
			}
			return at[min(len(at)-1, int(p*float64(len(at))))]
		}
		emit(out{"event": "synced", "proxies": n, "ms": float64(time.Since(t0).Microseconds()) / 1000, "attempts": attempts.Load() - a0, "problems": ps,
			"p50": pct(0.5), "p90": pct(0.9), "p99": pct(0.99)})
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "connect":
			from, _ := strconv.Atoi(f[1])
			to, _ := strconv.Atoi(f[2])
			var batch []*sim
			for i := from; i < to; i++ {
				s := &sim{id: fmt.Sprintf("sidecar-%d", i), ns: fmt.Sprintf("ns-%02d", i%*namespaces), svc: fmt.Sprintf("svc-%d", (i / *namespaces)%*services), delta: *mode == "delta"}
				if i < len(tokens) {
					s.token = tokens[i]
				}
				s.onArmed = func(at int64) {
					mu.Lock()
					acked = append(acked, at)
					mu.Unlock()
					pending.Add(-1)
				}
				batch = append(batch, s)
			}
			sims = append(sims, batch...)
			connect(batch)
		case "arm":
			mu.Lock()
			acked = nil
			mu.Unlock()
			pending.Store(int64(len(sims)))
			for _, s := range sims {
				s.armMu.Lock()
				s.armed = f[1]
				s.armMu.Unlock()
			}
			emit(out{"event": "armed", "proxies": len(sims)})
		case "collect":
			ms, _ := strconv.Atoi(f[1])
			deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
			for pending.Load() > 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			mu.Lock()
			emit(out{"event": "collected", "acked": acked, "missing": pending.Load()})
			mu.Unlock()
		case "storm":
			for _, s := range sims {
				s.stop()
			}
			connect(sims)
		case "reack":
			k, _ := strconv.Atoi(f[1])
			t0 := time.Now()
			var sent atomic.Int64
			var wg sync.WaitGroup
			for _, s := range sims {
				s.mu.Lock()
				again := s.reack
				s.mu.Unlock()
				if again == nil {
					continue
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < k; i++ {
						sent.Add(int64(again()))
					}
				}()
			}
			wg.Wait()
			emit(out{"event": "reacked", "requests": sent.Load(), "ms": float64(time.Since(t0).Microseconds()) / 1000})
		case "quit":
			for _, s := range sims {
				s.stop()
			}
			return nil
		}
	}
	return nil
}
