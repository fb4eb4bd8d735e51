package realtime_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkMessageDelivery measures chat delivery through the socket layer of a real `parley` process with many
// idle visitors connected (PARLEY_BENCH_VISITORS, 10,000 by default): each iteration, a visitor opens a
// conversation with a message that an agent's desk receives; the engine assigns it to the agent, who answers, then
// ends it. It reports p50 and p99 from sender to receiver, and the
// server's memory per idle visitor connection. The results are recorded in BENCHMARKS.md.
func BenchmarkMessageDelivery(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("PARLEY_BENCH_VISITORS")); err == nil && v > 0 {
		n = v
	}
	srv := startParley(b)

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	post(b, client, srv.url, "/api/auth/login", `{"email":"ana@demo.parley.test","password":"demo-password"}`)
	desk := dialBench(b, srv.url, "/ws/desk", client, `{}`)
	desk.send(b, `{"v":1,"type":"presence.set","id":"p","data":{"channel":"chat","status":"available"}}`)

	before := srv.memory(b)
	visitors := make([]*benchSocket, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for i := range visitors {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var tok struct {
				Token string `json:"token"`
			}
			json.Unmarshal(post(b, http.DefaultClient, srv.url, "/api/widget/session", `{"site":"`+srv.site+`"}`), &tok)
			visitors[i] = dialBench(b, srv.url, "/ws/visitor?site="+srv.site, nil, `{"token":"`+tok.Token+`"}`)
		}()
	}
	wg.Wait()
	time.Sleep(2 * time.Second)
	after := srv.memory(b)

	var toDesk, toVisitor []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := visitors[i%n]
		id := fmt.Sprintf("bench-%d", i)
		got := desk.expect(id)
		assigned := desk.expect("assigned:Ana")
		start := time.Now()
		v.send(b, fmt.Sprintf(`{"v":1,"type":"message.send","id":"%s","data":{"client_msg_id":"%s","body":"question %d"}}`, id, id, i))
		conv := wait(b, got, id)
		toDesk = append(toDesk, time.Since(start))
		wait(b, assigned, "assignment") // the engine gives Ana the conversation; she answers once it is hers

		rid := "r" + id
		got = v.expect(rid)
		start = time.Now()
		desk.send(b, fmt.Sprintf(`{"v":1,"type":"message.send","id":"%s","data":{"conversation_id":"%s","client_msg_id":"%s","body":"answer %d"}}`, rid, conv, rid, i))
		wait(b, got, rid)
		toVisitor = append(toVisitor, time.Since(start))
		// Ana ends it, freeing her slot for the next visitor (not timed).
		b.StopTimer()
		desk.send(b, fmt.Sprintf(`{"v":1,"type":"conversation.end","id":"e%d","data":{"conversation_id":"%s"}}`, i, conv))
		b.StartTimer()
	}
	b.StopTimer()
	// ResetTimer drops metrics reported before it, so memory is reported here.
	b.ReportMetric(float64(after.rss-before.rss)/float64(n), "rss-B/conn")
	b.ReportMetric(float64(after.heapStack-before.heapStack)/float64(n), "heap+stack-B/conn")
	all := append(slices.Clone(toDesk), toVisitor...)
	b.ReportMetric(pct(all, 50), "p50-ms")
	b.ReportMetric(pct(all, 99), "p99-ms")
	b.ReportMetric(pct(toDesk, 99), "p99-to-desk-ms")
	b.ReportMetric(pct(toVisitor, 99), "p99-to-visitor-ms")
}

func pct(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return float64(s[i].Microseconds()) / 1000
}

type parleyProcess struct {
	url, site string
	cmd       *exec.Cmd
}

// startParley builds and runs `parley demo` on a free port with limits raised for load.
func startParley(b *testing.B, extra ...string) *parleyProcess {
	b.Helper()
	return runParley(b, buildParley(b), extra...)
}

// buildParley builds the parley binary into the benchmark's temporary directory.
func buildParley(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "parley")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/parley").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// runParley runs one `parley demo` node from bin, with its own data folder, free ports and TURN off (several nodes
// may run side by side; no benchmark here relays a call).
func runParley(b *testing.B, bin string, extra ...string) *parleyProcess {
	b.Helper()
	cmd := exec.Command(bin, append([]string{"demo", "--http-addr", "127.0.0.1:0", "--data-dir", filepath.Join(b.TempDir(), "data"), "--log-level", "warn",
		"--media-udp-port", "0", "--media-tcp-port", "0"}, extra...)...)
	cmd.Env = append(os.Environ(), "PARLEY_REALTIME_SITE_RATE=1000000", "PARLEY_REALTIME_SITE_BURST=1000000",
		"PARLEY_REALTIME_CONN_RATE=100000", "PARLEY_REALTIME_CONN_BURST=100000", "PARLEY_TURN_ENABLED=false")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
	p := &parleyProcess{cmd: cmd}
	sc := bufio.NewScanner(stdout)
	urlRe := regexp.MustCompile(`Agent desk:\s+(http://\S+)/desk/`)
	siteRe := regexp.MustCompile(`data-site="([^"]+)"`)
	for sc.Scan() && (p.url == "" || p.site == "") {
		if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
			p.url = m[1]
		}
		if m := siteRe.FindStringSubmatch(sc.Text()); m != nil {
			p.site = m[1]
		}
	}
	go io.Copy(io.Discard, stdout)
	if p.url == "" || p.site == "" {
		b.Fatal("parley demo did not print its URL and site")
	}
	return p
}

type memory struct{ rss, heapStack int64 }

// memory reads the server's resident set and its Go heap and stacks in use.
func (p *parleyProcess) memory(b *testing.B) memory {
	b.Helper()
	var m memory
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			m.rss = kb * 1024
		}
	}
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && (f[0] == "go_memstats_heap_inuse_bytes" || f[0] == "go_memstats_stack_inuse_bytes") {
			v, _ := strconv.ParseFloat(f[1], 64)
			m.heapStack += int64(v)
		}
	}
	return m
}

func post(b *testing.B, c *http.Client, base, path, body string) []byte {
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.Fatalf("POST %s: %d %s", path, resp.StatusCode, data)
	}
	return data
}

// benchSocket reads frames in the background and hands over the events it is asked for.
type benchSocket struct {
	ws *websocket.Conn
	// onFrame, when set before the hello, sees every frame instead of the event matching below.
	onFrame func(typ string, data []byte)
	mu      sync.Mutex
	wanted  map[string]chan string // client_msg_id -> conversation id
}

func dialBench(b *testing.B, base, path string, client *http.Client, hello string, onFrame ...func(string, []byte)) *benchSocket {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+path, &websocket.DialOptions{
		HTTPClient: client, HTTPHeader: http.Header{"Origin": {base}}})
	if err != nil {
		b.Fatal(err)
	}
	ws.SetReadLimit(1 << 20)
	s := &benchSocket{ws: ws, wanted: map[string]chan string{}}
	if len(onFrame) > 0 {
		s.onFrame = onFrame[0]
	}
	s.send(b, `{"v":1,"type":"hello","id":"h","data":`+hello+`}`)
	go s.read()
	b.Cleanup(func() { ws.CloseNow() })
	return s
}

func (s *benchSocket) send(b *testing.B, frame string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		b.Fatal(err)
	}
}

// post writes a frame from any goroutine; a failed write shows up as a missing answer.
func (s *benchSocket) post(frame string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.ws.Write(ctx, websocket.MessageText, []byte(frame))
}

func (s *benchSocket) read() {
	for {
		_, data, err := s.ws.Read(context.Background())
		if err != nil {
			return
		}
		if s.onFrame != nil {
			var f struct {
				Type string `json:"type"`
			}
			json.Unmarshal(data, &f)
			if f.Type == "ping" {
				go s.ws.Write(context.Background(), websocket.MessageText, []byte(`{"v":1,"type":"pong"}`))
			}
			s.onFrame(f.Type, data)
			continue
		}
		if !strings.Contains(string(data), `"type":"event"`) {
			if strings.Contains(string(data), `"type":"ping"`) {
				go s.ws.Write(context.Background(), websocket.MessageText, []byte(`{"v":1,"type":"pong"}`))
			}
			continue
		}
		var f struct {
			Data struct {
				ConversationID string `json:"conversation_id"`
				ClientMsgID    string `json:"client_msg_id"`
				Type           string `json:"type"`
				AuthorName     string `json:"author_name"`
			} `json:"data"`
		}
		json.Unmarshal(data, &f)
		key := f.Data.ClientMsgID
		if f.Data.Type == "assigned" {
			key = "assigned:" + f.Data.AuthorName // the agent who took the conversation
		}
		s.mu.Lock()
		ch := s.wanted[key]
		delete(s.wanted, key)
		s.mu.Unlock()
		if ch != nil {
			ch <- f.Data.ConversationID
		}
	}
}

// expect registers interest in the event of a message before it is sent.
func (s *benchSocket) expect(clientMsgID string) chan string {
	ch := make(chan string, 1)
	s.mu.Lock()
	s.wanted[clientMsgID] = ch
	s.mu.Unlock()
	return ch
}

// wait returns the conversation id of the expected event.
func wait(b *testing.B, ch chan string, clientMsgID string) string {
	select {
	case conv := <-ch:
		return conv
	case <-time.After(10 * time.Second):
		b.Fatalf("event %s not delivered in 10s", clientMsgID)
	}
	return ""
}
