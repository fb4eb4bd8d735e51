package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/transport/v4"
	"github.com/pion/webrtc/v4"
)

// PeerConfig shapes a synthetic Peer.
type PeerConfig struct {
	// Video sends a camera's worth of VP8-like RTP; without it the peer offers to receive video only, like a
	// visitor whose camera is off by policy.
	Video bool
	// VideoKbps is the video bitrate, in frames of VideoKbps/30 kilobits at 30 frames a second; 0 means 500
	// (the high tier's recommended rate).
	VideoKbps int
	// Audio sends Opus-sized packets, 50 a second (20 ms frames, about 32 kb/s); without it audio is
	// receive-only.
	Audio bool
	// TCPOnly restricts the peer to ICE-TCP, as behind a firewall that drops UDP.
	TCPOnly bool
	// UDPAndTCP gathers both UDP and TCP candidates, as browsers do; TURN over TLS needs it (pion relays over TCP
	// only when both are on). Without it (and without TCPOnly) the peer uses UDP only.
	UDPAndTCP bool
	// ICEServers are the STUN and TURN servers the peer may use, as a browser's RTCConfiguration.iceServers.
	ICEServers []ICEServer
	// RelayOnly makes the peer connect through its TURN servers only, as a browser with iceTransportPolicy
	// "relay" does.
	RelayOnly bool
	// LocalIP is the address the peer's candidates use; empty means 127.0.0.1, for a relay on the same machine.
	LocalIP string
	// Net replaces the operating system's network, for tests and simulations only (pion's vnet); LocalIP must
	// then be one of its addresses.
	Net transport.Net

	reportInterval time.Duration // for tests; 0 means 1 s
}

// Peer is a synthetic browser: a pion PeerConnection that offers what Parley's widget and desk offer (sendrecv
// audio and video, or receive-only video without a camera) and sends synthetic RTP instead of encoded media. It
// drives calls without a browser, in integration tests and in `parley loadtest calls`, and it measures what it
// receives: packet counts, time of the first packet, keyframe requests and one-way delays.
//
// Delays are measured from a send time the sending Peer writes into each payload, so they are meaningful only
// between Peers of one machine.
type Peer struct {
	cfg   PeerConfig
	log   *slog.Logger
	pc    *webrtc.PeerConnection
	audio *webrtc.TrackLocalStaticRTP // nil without PeerConfig.Audio
	video *webrtc.TrackLocalStaticRTP // nil without PeerConfig.Video

	camera      atomic.Bool
	tier        atomic.Value // Tier: the last target applied with SetTier
	maxKbps     atomic.Int64 // the video bitrate SetTier allows; 0 means PeerConfig.VideoKbps
	tierPaused  atomic.Bool  // the tier is audio only: no video, camera or not
	keyframe    atomic.Bool  // the next video frame is a keyframe
	audioRecv   atomic.Uint64
	videoRecv   atomic.Uint64
	plis        atomic.Uint64
	firstMedia  atomic.Int64 // Unix nanoseconds
	remoteVideo atomic.Uint32
	connected   chan struct{}
	connOnce    sync.Once

	localIP *atomic.Pointer[net.IP] // the address its candidates use (SetLocalIP)

	mu           sync.Mutex // guards what follows
	closed       bool
	started      bool
	onCand       func(*Candidate)
	held         []*Candidate // own candidates gathered before OnCandidate
	remoteSet    bool
	pendingCands []webrtc.ICECandidateInit
	lat          latencySample

	stop chan struct{}
	wg   sync.WaitGroup
}

// latencyMagic marks the send time at the end of a Peer's payloads.
var latencyMagic = [4]byte{'P', 'R', 'L', 'Y'}

const (
	latencyTrailer = 12 // magic, then Unix nanoseconds
	// maxLatencySamples bounds the delays a Peer keeps: a uniform sample of every packet's delay, so that a
	// load test of hundreds of peers stays small.
	maxLatencySamples = 4096
	videoFPS          = 30
	videoMaxPayload   = 1100 // bytes of VP8 payload per packet, as browsers packetize for a 1200-byte MTU budget
	opusPayload       = 80   // bytes per 20 ms at 32 kb/s
)

// latencySample is a reservoir sample of delays (Vitter's algorithm R).
type latencySample struct {
	seen    uint64
	samples []time.Duration
}

func (s *latencySample) add(d time.Duration) {
	s.seen++
	if len(s.samples) < maxLatencySamples {
		s.samples = append(s.samples, d)
		return
	}
	if i := rand.Uint64N(s.seen); i < maxLatencySamples {
		s.samples[i] = d
	}
}

// NewPeer creates a peer; it does nothing on the network until Offer.
func NewPeer(cfg PeerConfig, log *slog.Logger) (*Peer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.VideoKbps <= 0 {
		cfg.VideoKbps = 500
	}
	if cfg.LocalIP == "" {
		cfg.LocalIP = "127.0.0.1"
	}
	localIP := net.ParseIP(cfg.LocalIP)
	if localIP == nil {
		return nil, fmt.Errorf("media: peer address %q is not an IP address", cfg.LocalIP)
	}
	log = log.With(slog.String("component", "peer"))
	logs := newPionLogs(log)

	me, err := newMediaEngine()
	if err != nil {
		return nil, err
	}
	factories, err := newInterceptors(logs, interceptorOptions{reportInterval: cfg.reportInterval})
	if err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: logs}
	switch {
	case cfg.TCPOnly:
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	case cfg.UDPAndTCP:
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
	default:
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	var local atomic.Pointer[net.IP] // SetLocalIP changes it: the filter is read at each gathering
	local.Store(&localIP)
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(*local.Load()) })
	if cfg.Net != nil {
		se.SetNet(cfg.Net)
	}
	pcConfig := webrtc.Configuration{BundlePolicy: webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire}
	for _, s := range cfg.ICEServers {
		pcConfig.ICEServers = append(pcConfig.ICEServers, webrtc.ICEServer{URLs: s.URLs, Username: s.Username,
			Credential: s.Credential})
	}
	if cfg.RelayOnly {
		pcConfig.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := newAPI(me, se, factories).NewPeerConnection(pcConfig)
	if err != nil {
		return nil, err
	}
	p := &Peer{cfg: cfg, log: log, pc: pc, connected: make(chan struct{}), stop: make(chan struct{}), localIP: &local}
	p.camera.Store(true)
	p.tier.Store(TierHigh)

	if p.audio, err = p.addTransceiver(webrtc.RTPCodecTypeAudio, opusCodec, cfg.Audio); err != nil {
		_ = pc.Close()
		return nil, err
	}
	if p.video, err = p.addTransceiver(webrtc.RTPCodecTypeVideo, vp8Codec, cfg.Video); err != nil {
		_ = pc.Close()
		return nil, err
	}
	pc.OnTrack(p.onTrack)
	pc.OnICECandidate(p.onCandidate)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			p.connOnce.Do(func() { close(p.connected) })
		}
	})
	return p, nil
}

// addTransceiver adds a sendrecv transceiver with a local track, or a recvonly one.
func (p *Peer) addTransceiver(codecType webrtc.RTPCodecType, codec webrtc.RTPCodecCapability, send bool) (
	*webrtc.TrackLocalStaticRTP, error) {
	if !send {
		_, err := p.pc.AddTransceiverFromKind(codecType,
			webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		return nil, err
	}
	track, err := webrtc.NewTrackLocalStaticRTP(codec, codecType.String(), "peer")
	if err != nil {
		return nil, err
	}
	t, err := p.pc.AddTransceiverFromTrack(track,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		return nil, err
	}
	p.goPeer(func() { readRTCP(t.Sender(), p.onRTCP) })
	return track, nil
}

// goPeer runs f on a goroutine that Close waits for, unless the peer is closed.
func (p *Peer) goPeer(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		f()
	}()
}

// Offer creates the peer's offer and starts gathering its candidates, which come through OnCandidate (trickle
// ICE): the returned SDP carries none.
func (p *Peer) Offer() (string, error) {
	offer, err := p.pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return "", err
	}
	return offer.SDP, nil
}

// RestartICE makes an ICE restart offer (new ICE credentials, the same DTLS session and tracks), as a browser does
// with createOffer({iceRestart: true}) when its network changes, and starts gathering candidates anew. Send it
// with call.connect, as the first offer, and apply the answer with SetAnswer.
func (p *Peer) RestartICE() (string, error) {
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	if err != nil {
		return "", err
	}
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return "", err
	}
	return offer.SDP, nil
}

// SetLocalIP moves the peer to another local address, as a laptop that leaves one Wi-Fi for another: the candidates
// of its next gathering (RestartICE) use it. It must be one of PeerConfig.Net's addresses.
func (p *Peer) SetLocalIP(ip string) error {
	parsed := net.ParseIP(ip)
	if parsed == nil {
		return fmt.Errorf("media: peer address %q is not an IP address", ip)
	}
	p.localIP.Store(&parsed)
	return nil
}

// SetAnswer applies the relay's answer, and the relay candidates that came before it.
func (p *Peer) SetAnswer(answer string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return err
	}
	p.mu.Lock()
	p.remoteSet = true
	cands := p.pendingCands
	p.pendingCands = nil
	p.mu.Unlock()
	for _, c := range cands {
		if err := p.pc.AddICECandidate(c); err != nil {
			return err
		}
	}
	return nil
}

// AddCandidate adds one of the relay's candidates (nil: the end of them). Candidates that arrive before the
// answer are kept until SetAnswer, as a browser's signalling code should do.
func (p *Peer) AddCandidate(c *Candidate) error {
	init := webrtc.ICECandidateInit{}
	if c != nil {
		init = webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex,
			UsernameFragment: c.UsernameFragment}
	}
	p.mu.Lock()
	if !p.remoteSet {
		p.pendingCands = append(p.pendingCands, init)
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	return p.pc.AddICECandidate(init)
}

// OnCandidate sets the function that gets the peer's own candidates, to send to the relay; nil marks the end.
// Candidates gathered before it was set are passed to it at once. f runs on pion's goroutines with the peer's
// lock held, to keep candidates in order: it must not call the Peer.
func (p *Peer) OnCandidate(f func(*Candidate)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onCand = f
	for _, c := range p.held {
		f(c)
	}
	p.held = nil
}

func (p *Peer) onCandidate(ic *webrtc.ICECandidate) {
	c := candidateOf(ic)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.onCand == nil {
		p.held = append(p.held, c)
		return
	}
	p.onCand(c)
}

// Connected is closed once the peer's connection to the relay is up (ICE and DTLS).
func (p *Peer) Connected() <-chan struct{} { return p.connected }

// Start starts sending synthetic media: Opus-sized audio packets 50 times a second, and VP8-like video frames 30
// times a second, sized for VideoKbps, with a keyframe first and after each keyframe request.
func (p *Peer) Start() {
	p.mu.Lock()
	if p.started || p.closed {
		p.mu.Unlock()
		return
	}
	p.started = true
	p.mu.Unlock()
	p.keyframe.Store(true)
	p.goPeer(p.send)
}

// SetCamera stops or resumes sending video, without renegotiation, as a browser does with a track's enabled
// flag or replaceTrack(null). Video resumes with a keyframe.
func (p *Peer) SetCamera(on bool) {
	if on && !p.camera.Load() {
		p.keyframe.Store(true)
	}
	p.camera.Store(on)
}

// SetTier applies a quality tier's target, as Parley's browser code does with RTCRtpSender.setParameters: video
// goes at most at t.MaxBitrateKbps, and stops for TierAudio (the camera stays on, and video resumes with a
// keyframe when a better tier comes back).
func (p *Peer) SetTier(t TierInfo) {
	if t.Tier == TierAudio {
		p.tierPaused.Store(true)
	} else {
		if p.tierPaused.Swap(false) {
			p.keyframe.Store(true)
		}
		p.maxKbps.Store(int64(t.MaxBitrateKbps))
	}
	p.tier.Store(t.Tier)
}

// Tier returns the tier last applied with SetTier; TierHigh before any.
func (p *Peer) Tier() Tier { return p.tier.Load().(Tier) }

// videoFrameBytes is the size of the next video frame: PeerConfig.VideoKbps, or less when a tier caps it.
func (p *Peer) videoFrameBytes() int {
	kbps := p.cfg.VideoKbps
	if m := int(p.maxKbps.Load()); m > 0 {
		kbps = min(kbps, m)
	}
	return kbps * 1000 / 8 / videoFPS
}

// RequestKeyframe sends a PLI about the video the peer receives, as a browser's decoder does when it loses the
// picture. It fails before any video has arrived.
func (p *Peer) RequestKeyframe() error {
	ssrc := p.remoteVideo.Load()
	if ssrc == 0 {
		return errors.New("media: no video received yet")
	}
	return p.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}})
}

// Received returns the RTP packets received from the relay so far, by kind.
func (p *Peer) Received() (audioPackets, videoPackets uint64) {
	return p.audioRecv.Load(), p.videoRecv.Load()
}

// FirstMediaAt is when the first RTP packet from the relay arrived, or the zero time.
func (p *Peer) FirstMediaAt() time.Time {
	if ns := p.firstMedia.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// PLIsReceived counts the keyframe requests (PLI or FIR) the relay sent this peer.
func (p *Peer) PLIsReceived() uint64 { return p.plis.Load() }

// Latencies returns one-way delays of received packets, from the send time the sending Peer wrote into each:
// all of them, or a uniform sample of 4096 once there were more.
func (p *Peer) Latencies() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.lat.samples...)
}

// Close stops sending and closes the connection.
func (p *Peer) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	close(p.stop)
	err := p.pc.GracefulClose()
	p.wg.Wait()
	return err
}

func (p *Peer) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	defer p.wg.Done()

	p.goPeer(func() { readRTCP(receiver, nil) }) // sender reports must be read for the receiver reports to carry RTT
	count := &p.audioRecv
	if track.Kind() == webrtc.RTPCodecTypeVideo {
		count = &p.videoRecv
		p.remoteVideo.Store(uint32(track.SSRC()))
	}
	buf := make([]byte, receiveMTU)
	var pkt rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		p.firstMedia.CompareAndSwap(0, now.UnixNano())
		count.Add(1)
		if pkt.Unmarshal(buf[:n]) != nil || len(pkt.Payload) < latencyTrailer {
			continue
		}
		tail := pkt.Payload[len(pkt.Payload)-latencyTrailer:]
		if [4]byte(tail[:4]) != latencyMagic {
			continue
		}
		sent := int64(binary.BigEndian.Uint64(tail[4:]))
		p.mu.Lock()
		p.lat.add(time.Duration(now.UnixNano() - sent))
		p.mu.Unlock()
	}
}

// onRTCP takes one sender's RTCP, noting keyframe requests.
func (p *Peer) onRTCP(_ time.Time, pkts []rtcp.Packet) {
	for _, pkt := range pkts {
		switch pkt.(type) {
		case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
			p.plis.Add(1)
			p.keyframe.Store(true)
		}
	}
}

// send is the media clock: audio every 20 ms, video every frame interval.
func (p *Peer) send() {
	audioTick := time.NewTicker(20 * time.Millisecond)
	defer audioTick.Stop()
	videoTick := time.NewTicker(time.Second / videoFPS)
	defer videoTick.Stop()

	audio := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptOpus, SequenceNumber: uint16(rand.Uint32()),
		Timestamp: rand.Uint32(), SSRC: rand.Uint32()}, Payload: make([]byte, opusPayload)}
	video := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptVP8, SequenceNumber: uint16(rand.Uint32()),
		Timestamp: rand.Uint32(), SSRC: rand.Uint32()}}
	frame := make([]byte, videoMaxPayload+1)
	for {
		select {
		case <-p.stop:
			return
		case <-audioTick.C:
			if p.audio == nil {
				continue
			}
			stamp(audio.Payload)
			if err := p.audio.WriteRTP(&audio); err != nil {
				return
			}
			audio.SequenceNumber++
			audio.Timestamp += 960 // 20 ms at 48 kHz
		case <-videoTick.C:
			if p.video != nil && p.camera.Load() && !p.tierPaused.Load() {
				if err := p.sendFrame(&video, frame, p.videoFrameBytes(), p.keyframe.Swap(false)); err != nil {
					return
				}
			}
			video.Timestamp += 90000 / videoFPS // the clock runs on while the camera is off
		}
	}
}

// sendFrame packetizes one synthetic VP8 frame of size bytes (RFC 7741): a payload descriptor on every packet,
// the VP8 frame tag (and, for a keyframe, the start code and picture size) at the start of the frame.
func (p *Peer) sendFrame(pkt *rtp.Packet, buf []byte, size int, keyframe bool) error {
	for off := 0; off < size; off += videoMaxPayload {
		n := min(videoMaxPayload, size-off)
		payload := buf[:1+max(n, 10+latencyTrailer)]
		clear(payload)
		if off == 0 {
			payload[0] = 0x10 // S: start of a VP8 partition, partition index 0
			// The frame tag (RFC 6386 section 9.1): bit 0 is 0 for a keyframe, show_frame is set.
			payload[1] = 0x10 | 0x01
			if keyframe {
				payload[1] = 0x10
				copy(payload[4:], []byte{0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01}) // start code, 640x360
			}
		}
		stamp(payload[1:])
		pkt.Payload = payload
		pkt.Marker = off+n >= size
		if err := p.video.WriteRTP(pkt); err != nil {
			return err
		}
		pkt.SequenceNumber++
	}
	return nil
}

// stamp writes the send time at the end of a payload.
func stamp(payload []byte) {
	tail := payload[len(payload)-latencyTrailer:]
	copy(tail, latencyMagic[:])
	binary.BigEndian.PutUint64(tail[4:], uint64(time.Now().UnixNano()))
}
