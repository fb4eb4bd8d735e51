package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v4"
	"github.com/pion/webrtc/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// Parley's default ports for media (internal/config sets them; 0 here means "any free port").
const (
	DefaultUDPPort = 7882
	DefaultTCPPort = 7881
)

// Config is the relay's network setup.
type Config struct {
	// UDPPort is the one UDP port every call's media uses (ICE UDP mux). 0 picks a free port (tests); Parley's
	// default is DefaultUDPPort. Firewalls must let it in.
	UDPPort int
	// TCPPort is the one TCP port for ICE-TCP, the fallback for networks that block UDP. 0 picks a free port;
	// -1 turns ICE-TCP off. Parley's default is DefaultTCPPort. Media over TCP suffers from head-of-line blocking:
	// it is a fallback, and browsers prefer UDP when both work.
	TCPPort int
	// ListenIP is the address both ports bind, e.g. "127.0.0.1" or "0.0.0.0" (empty). With an unspecified
	// address the relay advertises every interface address, except loopback.
	ListenIP string
	// PublicIP is the address advertised in the relay's candidates instead of the interface addresses, for a
	// node behind a 1:1 NAT (a cloud VM with a public IP). Empty advertises the bound/interface addresses.
	PublicIP string
	// Net replaces the operating system's network with another implementation: for tests and simulations only
	// (pion's vnet, to add loss and delay). It needs TCPPort -1, as vnet has no TCP.
	Net transport.Net

	// Knobs for tests: zero means the production value.
	reportInterval  time.Duration // RTCP sender/receiver reports; 1 s
	connectTimeout  time.Duration // a leg that isn't connected by then has failed; 20 s
	iceDisconnected time.Duration // no traffic for this long: ICE disconnected; 5 s
	iceFailed       time.Duration // then disconnected for this long: ICE failed; 10 s
}

// Timers of the production relay.
const (
	defaultConnectTimeout  = 20 * time.Second
	defaultICEDisconnected = 5 * time.Second
	defaultICEFailed       = 10 * time.Second
	iceKeepalive           = 2 * time.Second
	// gatherTimeout bounds Join's wait for the relay's own candidates. They are host candidates on the two mux
	// ports, so gathering takes microseconds; the bound only matters if something is badly wrong.
	gatherTimeout = 2 * time.Second
	// keyframeInterval is the least time between two keyframe requests to one sender: a keyframe costs several
	// times a normal frame, and one answers every request made while it travels.
	keyframeInterval = 250 * time.Millisecond
	// maxPendingCandidates bounds the candidates kept for a side that has not joined yet.
	maxPendingCandidates = 32
)

// Relay is Parley's media relay: it carries every call's media on one node. It is safe for concurrent use.
type Relay struct {
	cfg     Config
	log     *slog.Logger
	api     *webrtc.API
	udpAddr *net.UDPAddr
	tcpLn   net.Listener
	udpMux  ice.UDPMux
	tcpMux  ice.TCPMux
	metrics *relayMetrics

	mu     sync.Mutex
	calls  map[string]*call
	closed bool

	// bg tracks the goroutines that deliver hooks and close failed legs, so that Close can wait for them.
	bgMu     sync.Mutex
	bg       sync.WaitGroup
	bgClosed bool
}

// New binds the relay's UDP port and, unless it is off, its TCP port; it fails when a port is taken.
func New(cfg Config, log *slog.Logger) (*Relay, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With(slog.String("component", "media"))
	if cfg.ListenIP == "" {
		cfg.ListenIP = "0.0.0.0"
	}
	ip := net.ParseIP(cfg.ListenIP)
	if ip == nil {
		return nil, fmt.Errorf("media: listen address %q is not an IP address", cfg.ListenIP)
	}
	if cfg.PublicIP != "" && net.ParseIP(cfg.PublicIP) == nil {
		return nil, fmt.Errorf("media: public address %q is not an IP address", cfg.PublicIP)
	}
	if cfg.Net != nil && cfg.TCPPort >= 0 {
		return nil, errors.New("media: a replacement network (Config.Net) needs ICE-TCP off (TCPPort -1)")
	}
	if cfg.connectTimeout <= 0 {
		cfg.connectTimeout = defaultConnectTimeout
	}
	if cfg.iceDisconnected <= 0 {
		cfg.iceDisconnected = defaultICEDisconnected
	}
	if cfg.iceFailed <= 0 {
		cfg.iceFailed = defaultICEFailed
	}
	udpNetwork, tcpNetwork := "udp4", "tcp4"
	networkTypes := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4}
	if ip.To4() == nil {
		udpNetwork, tcpNetwork = "udp6", "tcp6"
		networkTypes = []webrtc.NetworkType{webrtc.NetworkTypeUDP6, webrtc.NetworkTypeTCP6}
	}

	r := &Relay{cfg: cfg, log: log, calls: map[string]*call{}}
	r.metrics = newRelayMetrics(func() float64 { return float64(r.Calls()) })
	logs := newPionLogs(log)

	var err error
	if r.udpMux, r.udpAddr, err = listenUDP(cfg, udpNetwork, ip, logs); err != nil {
		return nil, err
	}

	se := webrtc.SettingEngine{LoggerFactory: logs}
	se.SetICEUDPMux(r.udpMux)
	if cfg.TCPPort >= 0 {
		tcpAddr := &net.TCPAddr{IP: ip, Port: cfg.TCPPort}
		ln, err := net.ListenTCP(tcpNetwork, tcpAddr)
		if err != nil {
			_ = r.udpMux.Close()
			return nil, fmt.Errorf("media: listen on TCP %s: %w", tcpAddr, err)
		}
		r.tcpLn = ln
		r.tcpMux = ice.NewTCPMuxDefault(ice.TCPMuxParams{
			Listener: ln, Logger: logs.NewLogger("tcpmux"),
			ReadBufferSize: 64, // packets queued per connection before the ICE agent reads them
			// Writes to a slow TCP client are buffered up to this size and then dropped, rather than blocking
			// the forwarding of the other side's media.
			WriteBufferSize: 1 << 20,
		})
		se.SetICETCPMux(r.tcpMux)
		se.SetNetworkTypes(networkTypes)
	} else {
		se.SetNetworkTypes(networkTypes[:1])
	}
	// Candidates are the mux's host candidates only: no STUN (the relay is the server side), no mDNS (which
	// would hide the address browsers must reach).
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(ip.IsLoopback())
	if cfg.PublicIP != "" {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: []string{cfg.PublicIP}, AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			r.closePorts()
			return nil, fmt.Errorf("media: public address: %w", err)
		}
	}
	se.SetICETimeouts(cfg.iceDisconnected, cfg.iceFailed, iceKeepalive)
	if cfg.Net != nil {
		se.SetNet(cfg.Net)
	}

	me, err := newMediaEngine()
	if err != nil {
		r.closePorts()
		return nil, fmt.Errorf("media: codecs: %w", err)
	}
	factories, err := newInterceptors(logs, interceptorOptions{reportInterval: cfg.reportInterval})
	if err != nil {
		r.closePorts()
		return nil, fmt.Errorf("media: interceptors: %w", err)
	}
	r.api = newAPI(me, se, factories)
	log.Info("media relay listening", slog.String("udp", r.UDPAddr().String()),
		slog.String("tcp", addrString(r.TCPAddr())), slog.String("public_ip", cfg.PublicIP))
	return r, nil
}

// listenUDP binds the relay's UDP port and returns the ICE mux that serves every call on it.
//
// A specific address gets one socket. An unspecified one gets one socket per interface address, all on the same
// port: a single 0.0.0.0 socket lets the kernel pick the source address of each reply, and on a host with several
// addresses (or a browser on the same host) that may differ from the address the browser sent to, which ICE
// rejects (RFC 8445 section 7.2.5.2.1). Loopback addresses are left out, unless the host has no other.
func listenUDP(cfg Config, network string, ip net.IP, logs pionLogs) (ice.UDPMux, *net.UDPAddr, error) {
	listen := func(addr *net.UDPAddr) (net.PacketConn, error) {
		if cfg.Net != nil {
			return cfg.Net.ListenUDP(network, addr)
		}
		c, err := net.ListenUDP(network, addr)
		if err == nil {
			setSocketBuffers(c)
		}
		return c, err
	}
	if !ip.IsUnspecified() {
		addr := &net.UDPAddr{IP: ip, Port: cfg.UDPPort}
		conn, err := listen(addr)
		if err != nil {
			return nil, nil, fmt.Errorf("media: listen on UDP %s: %w", addr, err)
		}
		local, _ := conn.LocalAddr().(*net.UDPAddr)
		return ice.NewUDPMuxDefault(ice.UDPMuxParams{Logger: logs.NewLogger("udpmux"), UDPConn: conn, Net: cfg.Net}),
			local, nil
	}

	iceNetwork := ice.NetworkTypeUDP4
	if network == "udp6" {
		iceNetwork = ice.NetworkTypeUDP6
	}
	opts := []ice.UDPMuxFromPortOption{
		ice.UDPMuxFromPortWithNetworks(iceNetwork),
		ice.UDPMuxFromPortWithLogger(logs.NewLogger("udpmux")),
		ice.UDPMuxFromPortWithReadBufferSize(socketBuffer),
		ice.UDPMuxFromPortWithWriteBufferSize(socketBuffer),
	}
	if cfg.Net != nil {
		opts = append(opts, ice.UDPMuxFromPortWithNet(cfg.Net))
	}
	var lastErr error
	for range 5 {
		port := cfg.UDPPort
		if port == 0 {
			// One port for every address: find one that is free (tests only; a rare race is retried).
			c, err := listen(&net.UDPAddr{IP: ip})
			if err != nil {
				return nil, nil, fmt.Errorf("media: find a free UDP port: %w", err)
			}
			port = c.LocalAddr().(*net.UDPAddr).Port
			_ = c.Close()
		}
		mux, err := ice.NewMultiUDPMuxFromPort(port, opts...)
		if err == nil && len(mux.GetListenAddresses()) == 0 {
			_ = mux.Close()
			mux, err = ice.NewMultiUDPMuxFromPort(port, append(opts, ice.UDPMuxFromPortWithLoopback())...)
		}
		if err == nil {
			return mux, &net.UDPAddr{IP: ip, Port: port}, nil
		}
		lastErr = err
		if cfg.UDPPort != 0 {
			break
		}
	}
	return nil, nil, fmt.Errorf("media: listen on UDP port %d: %w", cfg.UDPPort, lastErr)
}

// socketBuffer is the UDP socket buffer size the relay asks for: bursts of video from many calls arrive at one
// socket, and a larger buffer avoids drops (the kernel caps it at net.core.rmem_max and wmem_max).
const socketBuffer = 4 << 20

func setSocketBuffers(c *net.UDPConn) {
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
}

func addrString(a *net.TCPAddr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

// UDPAddr is the address of the relay's UDP port.
func (r *Relay) UDPAddr() *net.UDPAddr { return r.udpAddr }

// TCPAddr is the address of the relay's ICE-TCP port, or nil when ICE-TCP is off.
func (r *Relay) TCPAddr() *net.TCPAddr {
	if r.tcpLn == nil {
		return nil
	}
	a, _ := r.tcpLn.Addr().(*net.TCPAddr)
	return a
}

// Collectors returns the relay's Prometheus collectors, for the composition root to register.
func (r *Relay) Collectors() []prometheus.Collector { return r.metrics.collectors() }

// Calls returns the number of open calls.
func (r *Relay) Calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// Close ends every call and closes the ports. Hooks do not fire for the legs it closes, and Close waits for the
// hooks already under way: it must not be called from a hook, or while holding a lock that a hook takes.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	calls := r.calls
	r.calls = map[string]*call{}
	r.mu.Unlock()

	// Closing a leg takes a few milliseconds (DTLS close_notify, goroutines winding down): close calls in
	// parallel, a few at a time.
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c.end()
		}()
	}
	wg.Wait()

	r.bgMu.Lock()
	r.bgClosed = true
	r.bgMu.Unlock()
	r.bg.Wait()
	r.closePorts()
	r.log.Info("media relay closed")
	return nil
}

func (r *Relay) closePorts() {
	if r.tcpMux != nil {
		_ = r.tcpMux.Close()
	}
	if r.tcpLn != nil {
		_ = r.tcpLn.Close()
	}
	_ = r.udpMux.Close() // and its sockets
}

// goBackground runs f on a goroutine that Close waits for; it returns false, without running f, once the relay
// is closing.
func (r *Relay) goBackground(f func()) bool {
	r.bgMu.Lock()
	defer r.bgMu.Unlock()
	if r.bgClosed {
		return false
	}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		f()
	}()
	return true
}

// Open makes a call joinable by two legs, one per side. Opening an open call is a no-op (its hooks are kept).
func (r *Relay) Open(callID string, hooks Hooks) error {
	if callID == "" {
		return errors.New("media: empty call id")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if _, ok := r.calls[callID]; ok {
		return nil
	}
	r.calls[callID] = newCall(r, callID, hooks)
	return nil
}

func (r *Relay) call(callID string) (*call, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	c := r.calls[callID]
	if c == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoCall, callID)
	}
	return c, nil
}

// Join connects one side's browser to the call. offerSDP is the browser's offer: one audio section (Opus) and one
// video section (VP8), both of which it wants to receive; it sends audio, and video when it has a camera. Join
// returns the relay's answer, which already carries the relay's ICE candidates (they also come through
// hooks.Candidate, released as Join returns). ctx bounds the wait for those candidates.
//
// A Join for a side whose leg is connecting or connected fails with ErrLegTaken, unless replace is set (a page
// reload): then the old leg is closed and the new one takes its place. A side whose leg failed joins again
// without replace. The relay's answer is ready before the other side joins: when it does, its media starts
// flowing with no renegotiation.
func (r *Relay) Join(ctx context.Context, callID string, side Side, offerSDP string, replace bool) (string, error) {
	if !side.valid() {
		return "", fmt.Errorf("media: unknown side %q", side)
	}
	c, err := r.call(callID)
	if err != nil {
		return "", err
	}
	if err := checkOffer(offerSDP); err != nil {
		return "", err
	}
	l, old, err := c.reserve(side, replace)
	if err != nil {
		return "", err
	}
	if old != nil {
		r.log.Info("leg replaced", slog.String("call_id", callID), slog.String("side", string(side)))
		old.close("replaced")
	}
	answer, err := l.negotiate(ctx, offerSDP)
	if l.isClosing() {
		// End, Close or a replacing Join closed the leg while it negotiated: whatever pion said about it, that
		// is the news.
		err = fmt.Errorf("%w: a newer connection replaced this one", ErrLegTaken)
		if c.isEnded() {
			err = fmt.Errorf("%w: %q ended while joining", ErrNoCall, callID)
		}
	}
	if err != nil {
		c.drop(l)
		if !errors.Is(err, ErrBadSDP) && !errors.Is(err, ErrNoCall) && !errors.Is(err, ErrLegTaken) {
			r.log.Warn("join failed", slog.String("call_id", callID), slog.String("side", string(side)),
				slog.Any("error", err))
		}
		return "", err
	}
	l.release()
	return answer, nil
}

// AddCandidate gives one of a browser's ICE candidates to that side's leg; nil, or an empty candidate string,
// means the end of its candidates. Candidates that arrive before that side's Join are kept for it. The relay
// needs none of them to connect (it learns the browser's address from its connectivity checks), but they speed
// the connection up when the browser's first checks are lost.
func (r *Relay) AddCandidate(callID string, side Side, cand *Candidate) error {
	if !side.valid() {
		return fmt.Errorf("media: unknown side %q", side)
	}
	c, err := r.call(callID)
	if err != nil {
		return err
	}
	init, err := parseCandidate(cand)
	if err != nil {
		return err
	}
	return c.addCandidate(side, init)
}

// parseCandidate checks a browser's candidate and converts it for pion.
func parseCandidate(c *Candidate) (webrtc.ICECandidateInit, error) {
	if c == nil {
		return webrtc.ICECandidateInit{}, nil
	}
	init := webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
		UsernameFragment: c.UsernameFragment}
	value := strings.TrimPrefix(strings.TrimSpace(c.Candidate), "candidate:")
	if value == "" {
		return webrtc.ICECandidateInit{}, nil
	}
	if len(value) > 1024 {
		return init, fmt.Errorf("%w: %d bytes long", ErrBadCandidate, len(value))
	}
	if _, err := ice.UnmarshalCandidate(value); err != nil {
		// A candidate of a type or network pion doesn't know is valid; pion ignores it, and so does the relay.
		if errors.Is(err, ice.ErrUnknownCandidateTyp) || errors.Is(err, ice.ErrDetermineNetworkType) {
			return init, nil
		}
		return init, fmt.Errorf("%w: %v", ErrBadCandidate, err)
	}
	return init, nil
}

// Stats returns the call's measures so far.
func (r *Relay) Stats(callID string) (CallStats, error) {
	c, err := r.call(callID)
	if err != nil {
		return CallStats{}, err
	}
	return c.stats(), nil
}

// End closes both legs of a call and returns its final measures. The call id is unknown afterwards.
func (r *Relay) End(callID string) (CallStats, error) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return CallStats{}, ErrClosed
	}
	c := r.calls[callID]
	delete(r.calls, callID)
	r.mu.Unlock()
	if c == nil {
		return CallStats{}, fmt.Errorf("%w: %q", ErrNoCall, callID)
	}
	c.end()
	return c.stats(), nil
}

// call is one open call: up to two live legs, and the measures of the legs that came before them.
type call struct {
	id    string
	relay *Relay
	hooks Hooks
	// legs holds each side's current leg. The forward loops read the other side's slot on every packet.
	legs [2]atomic.Pointer[leg]

	mu      sync.Mutex // guards what follows, and changes to legs
	ended   bool
	live    []*leg // legs not yet closed and folded into past
	pending [2][]webrtc.ICECandidateInit
	past    [2]inboundTotals

	evMu     sync.Mutex
	events   []func()
	draining bool
	endedEv  atomic.Bool

	tiers tiers // bandwidth estimation and quality tiers (tiers.go)
}

func newCall(r *Relay, id string, h Hooks) *call {
	// Missing hooks become no-ops, so the rest of the package calls them without checks.
	if h.Candidate == nil {
		h.Candidate = func(Side, *Candidate) {}
	}
	if h.Connected == nil {
		h.Connected = func(Side) {}
	}
	if h.FirstMedia == nil {
		h.FirstMedia = func(Side) {}
	}
	if h.Failed == nil {
		h.Failed = func(Side) {}
	}
	if h.Tier == nil {
		h.Tier = func(Side, TierInfo) {}
	}
	c := &call{id: id, relay: r, hooks: h, tiers: tiers{stop: make(chan struct{})}}
	r.goBackground(c.runTiers)
	return c
}

// emit queues a hook call. Hooks run one at a time, in order, on a background goroutine: never on the goroutine
// of a Relay method, whose caller may hold a lock the hook needs.
func (c *call) emit(f func()) {
	c.evMu.Lock()
	c.events = append(c.events, f)
	if c.draining {
		c.evMu.Unlock()
		return
	}
	c.draining = true
	c.evMu.Unlock()
	if !c.relay.goBackground(c.drain) {
		c.evMu.Lock()
		c.events, c.draining = nil, false
		c.evMu.Unlock()
	}
}

func (c *call) drain() {
	for {
		c.evMu.Lock()
		if len(c.events) == 0 || c.endedEv.Load() {
			c.events, c.draining = nil, false
			c.evMu.Unlock()
			return
		}
		f := c.events[0]
		c.events[0] = nil
		c.events = c.events[1:]
		c.evMu.Unlock()
		f()
	}
}

// reserve takes side's slot for a new leg, returning the leg it replaces, if any.
func (c *call) reserve(side Side, replace bool) (l, old *leg, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return nil, nil, fmt.Errorf("%w: %q", ErrNoCall, c.id)
	}
	i := side.index()
	old = c.legs[i].Load()
	if old != nil && !replace {
		return nil, nil, ErrLegTaken
	}
	l = newLeg(c, side)
	l.pendingCands = c.pending[i]
	c.pending[i] = nil
	c.legs[i].Store(l)
	c.live = append(c.live, l)
	c.relay.metrics.legs.WithLabelValues("connecting").Inc()
	return l, old, nil
}

// drop closes a leg whose Join failed, and frees its slot.
func (c *call) drop(l *leg) {
	c.vacate(l)
	l.close("rejected")
}

// vacate frees l's slot if it still holds it, and reports whether it did.
func (c *call) vacate(l *leg) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.legs[l.side.index()].CompareAndSwap(l, nil)
}

// legFailed handles a leg that failed or that its browser closed: its slot frees, and the owner hears of it.
func (c *call) legFailed(l *leg) {
	vacated := c.vacate(l)
	if !l.close("failed") || !vacated {
		return // closed by the relay itself, or replaced meanwhile
	}
	c.relay.log.Info("leg failed", slog.String("call_id", c.id), slog.String("side", string(l.side)))
	c.emit(func() { c.hooks.Failed(l.side) })
}

// fold moves a closed leg's measures into the side's past totals.
func (c *call) fold(l *leg) {
	t := l.totals()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.live {
		if x == l {
			c.live = append(c.live[:i], c.live[i+1:]...)
			c.past[l.side.index()].add(t)
			return
		}
	}
}

func (c *call) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// other returns the leg of the side opposite to side, or nil.
func (c *call) other(side Side) *leg { return c.legs[side.other().index()].Load() }

func (c *call) addCandidate(side Side, init webrtc.ICECandidateInit) error {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return fmt.Errorf("%w: %q", ErrNoCall, c.id)
	}
	i := side.index()
	l := c.legs[i].Load()
	if l == nil {
		if len(c.pending[i]) < maxPendingCandidates {
			c.pending[i] = append(c.pending[i], init)
		}
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	return l.addCandidate(init)
}

// end closes every leg of the call, without hooks.
func (c *call) end() {
	c.mu.Lock()
	c.ended = true
	legs := append([]*leg(nil), c.live...)
	c.legs[0].Store(nil)
	c.legs[1].Store(nil)
	c.mu.Unlock()
	c.endedEv.Store(true)
	c.stopTiers()

	var wg sync.WaitGroup
	for _, l := range legs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.close("ended")
		}()
	}
	wg.Wait()
}

// stats adds up each side's closed and live legs.
func (c *call) stats() CallStats {
	c.mu.Lock()
	totals := c.past
	live := append([]*leg(nil), c.live...)
	c.mu.Unlock()
	for _, l := range live {
		totals[l.side.index()].add(l.totals())
	}
	return CallStats{Visitor: totals[SideVisitor.index()].legStats(), Agent: totals[SideAgent.index()].legStats(),
		Tiers: c.tierHistory()}
}
