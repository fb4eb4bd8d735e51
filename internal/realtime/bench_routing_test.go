package realtime_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley/parley/internal/store"
)

// BenchmarkRouting measures the distribution engine end to end on a real `parley` process: visitors open
// conversations as fast as 16 senders can, and agents' desks (10 agents with 50 chat slots each, the group in
// "offer" mode) accept each offer and end the conversation. It reports the latency from the visitor's first
// message to the offer frame on an agent's socket (p50, p99), and the conversations routed per second.
// PARLEY_BENCH_DATABASE_URL runs it on PostgreSQL. b.N is the number of conversations. By default they arrive in
// one burst, which measures throughput (the latency then includes waiting behind the burst);
// PARLEY_BENCH_RATE=50 paces them at 50 a second, which measures latency at that load. PARLEY_BENCH_DEBUG_ADDR
// serves the first node's profiler there.
//
// PARLEY_BENCH_NODES=3 runs three nodes on PostgreSQL and the NATS server at PARLEY_BENCH_NATS_URL, as in
// production behind a load balancer: agents and visitors are spread over the nodes in turn, so most offers are
// decided on one node and reach the desk through another.
func BenchmarkRouting(b *testing.B) {
	nodes := 1
	if n, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_NODES")); err == nil && n > 1 {
		nodes = n
	}
	var extra []string
	if url := os.Getenv("PARLEY_BENCH_DATABASE_URL"); url != "" {
		extra = []string{"--database-url", store.TestPostgresURL(b, url)}
	}
	if nodes > 1 {
		nats := os.Getenv("PARLEY_BENCH_NATS_URL")
		if len(extra) == 0 || nats == "" {
			b.Fatal("PARLEY_BENCH_NODES needs PARLEY_BENCH_DATABASE_URL (PostgreSQL) and PARLEY_BENCH_NATS_URL: nodes share them")
		}
		extra = append(extra, "--nats-url", nats)
	}
	bin := buildParley(b)
	srvs := make([]*parleyProcess, nodes)
	for i := range srvs {
		args := extra
		if addr := os.Getenv("PARLEY_BENCH_DEBUG_ADDR"); addr != "" && i == 0 {
			args = append(slices.Clip(args), "--debug-addr", addr) // to profile the server while it routes
		}
		srvs[i] = runParley(b, bin, args...) // one at a time: each seeds the demo if it is missing
	}
	srv := srvs[0]
	jar, _ := cookiejar.New(nil)
	admin := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	var login struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal(post(b, admin, srv.url, "/api/auth/login", `{"email":"admin@demo.parley.test","password":"demo-password"}`), &login)
	adminDo := func(method, path, body string) []byte {
		req, _ := http.NewRequest(method, srv.url+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", srv.url)
		req.Header.Set("X-CSRF-Token", login.CSRF)
		resp, err := admin.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var out json.RawMessage
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, out)
		}
		return out
	}
	var groups struct {
		Groups []struct{ ID string } `json:"groups"`
	}
	json.Unmarshal(adminDo("GET", "/api/admin/groups", ""), &groups)
	group := groups.Groups[0].ID
	adminDo("PATCH", "/api/admin/groups/"+group, `{"chat_mode":"offer","queue_places":1000}`)

	var mu sync.Mutex
	sent := map[string]time.Time{}    // conversation -> when its first message was sent
	offered := map[string]time.Time{} // conversation -> when the offer reached a desk
	var first, last time.Time
	var refused atomic.Int64
	done := make(chan struct{}, b.N+100)

	const agents = 10
	for i := 0; i < agents; i++ {
		email := fmt.Sprintf("bench%d@demo.parley.test", i)
		adminDo("POST", "/api/admin/agents", fmt.Sprintf(`{"email":%q,"name":"Bench %d","password":"bench-password","chat_capacity":50,"group_ids":[%q]}`, email, i, group))
		node := srvs[i%nodes]
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		post(b, c, node.url, "/api/auth/login", fmt.Sprintf(`{"email":%q,"password":"bench-password"}`, email))
		var desk *benchSocket
		ready := make(chan struct{})
		desk = dialBench(b, node.url, "/ws/desk", c, `{}`, func(typ string, data []byte) {
			switch typ {
			case "offer":
				now := time.Now()
				var f struct {
					Data struct {
						OfferID        string `json:"offer_id"`
						ConversationID string `json:"conversation_id"`
					} `json:"data"`
				}
				json.Unmarshal(data, &f)
				mu.Lock()
				offered[f.Data.ConversationID] = now
				last = now
				mu.Unlock()
				<-ready
				go desk.post(fmt.Sprintf(`{"v":1,"type":"offer.accept","id":"a-%s","data":{"offer_id":%q}}`, f.Data.OfferID, f.Data.OfferID))
			case "error":
				b.Logf("desk: %s", data)
			case "ack":
				var f struct {
					ID   string `json:"id"`
					Data struct {
						ConversationID string `json:"conversation_id"`
					} `json:"data"`
				}
				json.Unmarshal(data, &f)
				if len(f.ID) > 2 && f.ID[:2] == "a-" {
					go desk.post(fmt.Sprintf(`{"v":1,"type":"conversation.end","id":"e-%s","data":{"conversation_id":%q}}`, f.Data.ConversationID, f.Data.ConversationID))
					done <- struct{}{}
				}
			}
		})
		desk.send(b, `{"v":1,"type":"presence.set","id":"p","data":{"channel":"chat","status":"available"}}`)
		close(ready)
	}

	tokens := make([]string, b.N)
	for i := range tokens {
		var tok struct {
			Token string `json:"token"`
		}
		node := srvs[i%nodes]
		json.Unmarshal(post(b, http.DefaultClient, node.url, "/api/widget/session", `{"site":"`+node.site+`"}`), &tok)
		tokens[i] = tok.Token
	}
	sentAt := make([]time.Time, b.N)
	visitors := make([]*benchSocket, b.N)
	for i := range visitors {
		i := i
		node := srvs[i%nodes]
		visitors[i] = dialBench(b, node.url, "/ws/visitor?site="+node.site, nil, `{"token":"`+tokens[i]+`"}`, func(typ string, data []byte) {
			var f struct {
				ID   string `json:"id"`
				Data struct {
					ConversationID string `json:"conversation_id"`
					State          string `json:"state"`
				} `json:"data"`
			}
			if typ == "queue" && json.Unmarshal(data, &f) == nil && f.Data.State == store.RequestRefused {
				refused.Add(1) // the queue overflowed: this conversation gets no offer
				done <- struct{}{}
				return
			}
			if typ != "ack" {
				return
			}
			json.Unmarshal(data, &f)
			if f.ID == "m" {
				mu.Lock()
				sent[f.Data.ConversationID] = sentAt[i]
				mu.Unlock()
			}
		})
	}
	time.Sleep(time.Second)

	var pace <-chan time.Time
	if rate, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_RATE")); err == nil && rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		pace = t.C
	}
	b.ResetTimer()
	first = time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	go func() {
		for i := 0; i < b.N; i++ {
			if pace != nil {
				<-pace
			}
			next <- i
		}
		close(next)
	}()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				mu.Lock()
				sentAt[i] = time.Now()
				mu.Unlock()
				visitors[i].send(b, `{"v":1,"type":"message.send","id":"m","data":{"client_msg_id":"m","body":"hello"}}`)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < b.N; i++ {
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			mu.Lock()
			nsent, noffered := len(sent), len(offered)
			mu.Unlock()
			b.Fatalf("only %d of %d conversations were routed or refused (%d messages acknowledged, %d offers received)", i, b.N, nsent, noffered)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	for conv, at := range sent {
		if o, ok := offered[conv]; ok {
			lat = append(lat, o.Sub(at))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(pct(lat, 50), "p50-ms")
	b.ReportMetric(pct(lat, 99), "p99-ms")
	b.ReportMetric(float64(len(offered))/last.Sub(first).Seconds(), "conversations/s")
	if n := refused.Load(); n > 0 {
		b.Fatalf("%d of %d conversations were refused: the queue's 1,000 places filled up, so the server routes fewer a second than arrive (%.0f/s)",
			n, b.N, float64(len(offered))/last.Sub(first).Seconds())
	}
}
