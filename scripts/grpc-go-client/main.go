// A proxyless grpc-go client for the tests (test/proxyless): dials an xds:/// target with the
// bootstrap in GRPC_XDS_BOOTSTRAP_CONFIG, calls /weft.demo.Greeter/SayHello (raw-bytes
// messages, as examples/proxyless/greeter.ts serves them) --calls times, and prints one JSON
// summary line: calls answered per backend and failures per gRPC status code. Built by
// scripts/install-grpc-go-client.sh from the Go module proxy; the route's retry policy is
// grpc-go's own (gRFC A44), which is what the tests exercise.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	_ "google.golang.org/grpc/xds"
)

// rawCodec passes message bytes through: the greeter's messages are plain UTF-8 text.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { *(v.(*[]byte)) = append([]byte(nil), data...); return nil }
func (rawCodec) Name() string                       { return "proto" }

type summary struct {
	Type      string         `json:"type"`
	Calls     int            `json:"calls"`
	Ok        int            `json:"ok"`
	ByBackend map[string]int `json:"byBackend"`
	ByCode    map[string]int `json:"byCode"`
	ElapsedMs int64          `json:"elapsedMs"`
}

func main() {
	target := flag.String("target", "xds:///greeter.shop:50051", "xds target")
	calls := flag.Int("calls", 100, "calls to make")
	concurrency := flag.Int("concurrency", 4, "calls in flight")
	deadline := flag.Duration("deadline", 10*time.Second, "per-call deadline")
	flag.Parse()

	conn, err := grpc.NewClient(*target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		json.NewEncoder(os.Stderr).Encode(map[string]string{"error": err.Error()})
		os.Exit(2)
	}
	defer conn.Close()

	s := summary{Type: "summary", ByBackend: map[string]int{}, ByCode: map[string]int{}}
	var mu sync.Mutex
	next := make(chan struct{})
	var wg sync.WaitGroup
	started := time.Now()
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				ctx, cancel := context.WithTimeout(context.Background(), *deadline)
				req, res := []byte("weft"), []byte(nil)
				err := conn.Invoke(ctx, "/weft.demo.Greeter/SayHello", &req, &res, grpc.ForceCodec(rawCodec{}))
				cancel()
				mu.Lock()
				s.Calls++
				if err == nil {
					s.Ok++
					s.ByBackend[string(res)]++
				} else {
					s.ByCode[status.Code(err).String()]++
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < *calls; i++ {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	s.ElapsedMs = time.Since(started).Milliseconds()
	json.NewEncoder(os.Stdout).Encode(s)
}
