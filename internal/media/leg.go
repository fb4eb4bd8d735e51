package media

import (
	"context"
	"errors"
	"fmt"
	"github.com/pion/interceptor"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// kind is a media kind, as an index into per-kind arrays.
type kind int

const (
	kindAudio kind = iota
	kindVideo
	kindCount
)

func (k kind) String() string {
	if k == kindVideo {
		return "video"
	}
	return "audio"
}

func kindOf(t webrtc.RTPCodecType) kind {
	if t == webrtc.RTPCodecTypeVideo {
		return kindVideo
	}
	return kindAudio
}

// Leg states.
const (
	legConnecting int32 = iota
	legConnected
	legDone
)

// receiveMTU is the largest RTP packet the relay reads (pion's receive MTU).
const receiveMTU = 1460

// leg is one browser's connection to the relay, for one side of a call. It receives that side's audio and video
// and forwards them to the other side's leg; its two local tracks carry the other side's media to its browser.
type leg struct {
	call *call
	side Side
	log  *slog.Logger

	// Set by negotiate before the leg can connect, read-only afterwards.
	pc      *webrtc.PeerConnection
	out     [kindCount]*webrtc.TrackLocalStaticRTP
	outSSRC [kindCount]uint32
	rewrite [kindCount]*streamRewriter

	in        [kindCount]*inboundStats
	forwarded [kindCount]atomic.Bool // a forward loop owns the browser's track of that kind
	videoSSRC atomic.Uint32          // the SSRC of the video the browser sends, for keyframe requests
	rtt       rttStats
	bwe       legBWE // bandwidth estimation (bwe.go)

	state        atomic.Int32
	firstMedia   atomic.Bool
	videoFlowing atomic.Bool  // a video packet from the other side was written to this leg
	lastKeyframe atomic.Int64 // when a keyframe was last asked of this leg's browser, in Unix nanoseconds

	negMu sync.Mutex // one renegotiation (Restart) at a time

	mu           sync.Mutex // guards what follows
	closing      bool
	wg           sync.WaitGroup // the leg's own goroutines: forward loops and RTCP readers
	remoteSet    bool
	pendingCands []webrtc.ICECandidateInit
	released     bool         // Join returned the answer: candidates may go to the owner
	held         []*Candidate // candidates gathered before that
	timer        *time.Timer
	done         chan struct{} // closed when close has finished
}

func newLeg(c *call, side Side) *leg {
	l := &leg{call: c, side: side, done: make(chan struct{}),
		log: c.relay.log.With(slog.String("call_id", c.id), slog.String("side", string(side)))}
	for k := range l.in {
		l.in[k] = &inboundStats{}
	}
	l.rewrite[kindAudio] = &streamRewriter{clockRate: float64(opusCodec.ClockRate)}
	l.rewrite[kindVideo] = &streamRewriter{clockRate: float64(vp8Codec.ClockRate)}
	return l
}

// goLeg runs f on a goroutine that close waits for, unless the leg is closing.
func (l *leg) goLeg(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing {
		return
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		f()
	}()
}

func (l *leg) isClosing() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closing
}

// negotiate creates the leg's PeerConnection and answers the browser's offer.
func (l *leg) negotiate(ctx context.Context, offer string) (answer string, err error) {
	// checkOffer has vetted the offer; this is the last line of defence against an SDP that trips pion.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the relay could not process it (%v)", ErrBadSDP, p)
		}
	}()
	r := l.call.relay
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{
		BundlePolicy:  webrtc.BundlePolicyMaxBundle,
		RTCPMuxPolicy: webrtc.RTCPMuxPolicyRequire,
	})
	if err != nil {
		return "", fmt.Errorf("media: new peer connection: %w", err)
	}
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		_ = pc.Close()
		return "", errors.New("media: leg closed while joining")
	}
	l.pc = pc
	l.timer = time.AfterFunc(r.cfg.connectTimeout, func() {
		if l.state.Load() == legConnecting {
			l.log.Info("leg did not connect in time", slog.Duration("timeout", r.cfg.connectTimeout))
			l.call.legFailed(l)
		}
	})
	l.mu.Unlock()

	pc.OnTrack(l.onTrack)
	pc.OnICECandidate(l.onCandidate)
	pc.OnConnectionStateChange(l.onState)

	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	// The tracks that carry the other side's media to this browser. They exist before the other side joins, so
	// its media flows as soon as it arrives, without renegotiation. Both share a stream id, so the browser gets
	// them in one MediaStream.
	streamID := "parley-" + string(l.side.other())
	for k, codec := range [kindCount]webrtc.RTPCodecCapability{opusCodec, vp8Codec} {
		track, err := webrtc.NewTrackLocalStaticRTP(codec, kind(k).String(), streamID)
		if err != nil {
			return "", fmt.Errorf("media: local track: %w", err)
		}
		sender, err := pc.AddTrack(track)
		if err != nil {
			return "", fmt.Errorf("%w: no %s section to send on: %v", ErrBadSDP, kind(k), err)
		}
		l.out[k] = track
		if enc := sender.GetParameters().Encodings; len(enc) > 0 {
			l.outSSRC[k] = uint32(enc[0].SSRC)
		}
		l.goLeg(func() { readRTCP(sender, l.onRTCP(kind(k))) })
	}

	l.mu.Lock()
	l.remoteSet = true
	cands := l.pendingCands
	l.pendingCands = nil
	l.mu.Unlock()
	for _, c := range cands {
		if err := pc.AddICECandidate(c); err != nil {
			l.log.Debug("early candidate refused", slog.Any("error", err))
		}
	}

	local, err := answerOffer(ctx, pc, l.log)
	if err != nil {
		return "", err
	}
	if err := checkAnswer(local.SDP); err != nil {
		return "", err
	}
	return local.SDP, nil
}

// checkAnswer makes sure pion accepted both media sections: an answer that rejects one would connect a call
// without sound or picture.
func checkAnswer(answer string) error {
	var d sdp.SessionDescription
	if err := d.UnmarshalString(answer); err != nil {
		return fmt.Errorf("media: own answer: %w", err)
	}
	for _, m := range d.MediaDescriptions {
		if (m.MediaName.Media == "audio" || m.MediaName.Media == "video") && m.MediaName.Port.Value == 0 {
			return fmt.Errorf("%w: no codec in common for %s", ErrBadSDP, m.MediaName.Media)
		}
	}
	return nil
}

// release lets the owner hear of the leg's candidates, now that Join has returned the answer they belong to.
func (l *leg) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.released = true
	for _, c := range l.held {
		l.emitCandidate(c)
	}
	l.held = nil
}

func (l *leg) onCandidate(ic *webrtc.ICECandidate) {
	c := candidateOf(ic)
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.released {
		l.held = append(l.held, c)
		return
	}
	l.emitCandidate(c)
}

// emitCandidate queues a candidate hook; l.mu is held, which keeps candidates in order.
func (l *leg) emitCandidate(c *Candidate) {
	if l.closing {
		return
	}
	h, side := l.call.hooks, l.side
	l.call.emit(func() { h.Candidate(side, c) })
}

func (l *leg) addCandidate(init webrtc.ICECandidateInit) error {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return nil // a late candidate for a leg that is gone
	}
	if !l.remoteSet {
		if len(l.pendingCands) < maxPendingCandidates {
			l.pendingCands = append(l.pendingCands, init)
		}
		l.mu.Unlock()
		return nil
	}
	pc := l.pc
	l.mu.Unlock()
	if err := pc.AddICECandidate(init); err != nil {
		if l.state.Load() == legDone {
			return nil
		}
		return fmt.Errorf("%w: %v", ErrBadCandidate, err)
	}
	return nil
}

func (l *leg) onState(s webrtc.PeerConnectionState) {
	switch s {
	case webrtc.PeerConnectionStateConnected:
		if !l.state.CompareAndSwap(legConnecting, legConnected) {
			return
		}
		l.mu.Lock()
		if l.timer != nil {
			l.timer.Stop()
		}
		l.mu.Unlock()
		m := l.call.relay.metrics
		m.legs.WithLabelValues("connecting").Dec()
		m.legs.WithLabelValues("connected").Inc()
		l.log.Debug("leg connected")
		h, side := l.call.hooks, l.side
		l.call.emit(func() { h.Connected(side) })
		// The new receiver needs a keyframe to start decoding the other side's video.
		if o := l.call.other(l.side); o != nil {
			o.requestKeyframe("join")
		}
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
		if l.state.Load() == legDone {
			return // the relay closed it
		}
		// Closing the PeerConnection from its own callback would deadlock: do it on another goroutine.
		l.call.relay.goBackground(func() { l.call.legFailed(l) })
	}
}

// onTrack runs for each track the browser sends: it forwards the first track of each kind for the leg's life.
func (l *leg) onTrack(track *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return
	}
	l.wg.Add(1)
	l.mu.Unlock()
	defer l.wg.Done()

	// The browser's sender reports about this track reach the interceptors only when someone reads them: the
	// receiver reports the relay sends back (with the browser's round-trip time) depend on it.
	k := kindOf(track.Kind())
	l.goLeg(func() { readRTCP(receiver, l.onSenderReports(k)) })
	if !l.forwarded[k].CompareAndSwap(false, true) {
		l.log.Warn("extra track ignored", slog.String("kind", k.String()))
		discard(track)
		return
	}
	l.in[k].setClockRate(track.Codec().ClockRate)
	if k == kindVideo {
		l.videoSSRC.Store(uint32(track.SSRC()))
	}
	l.forward(track, k)
}

// rtcpReader is a pion RTPSender or RTPReceiver: what reads the RTCP of one track.
type rtcpReader interface {
	Read(b []byte) (int, interceptor.Attributes, error)
}

// readRTCP reads r's RTCP until it closes, and gives handle each compound packet that parses, with the time it was
// read; a nil handle only drains it. It must run for the track's life in any case: pion's interceptors see RTCP
// only as it is read, and unread RTCP fills its buffers. One buffer serves every read.
func readRTCP(r rtcpReader, handle func(time.Time, []rtcp.Packet)) {
	buf := make([]byte, receiveMTU)
	for {
		n, _, err := r.Read(buf)
		if err != nil {
			return
		}
		if handle == nil {
			continue
		}
		if pkts, err := rtcp.Unmarshal(buf[:n]); err == nil {
			handle(time.Now(), pkts)
		}
	}
}

// onSenderReports takes a receiver's RTCP: the browser's sender reports say how many packets it sent, for the
// uplink's bandwidth estimate.
func (l *leg) onSenderReports(k kind) func(time.Time, []rtcp.Packet) {
	return func(now time.Time, pkts []rtcp.Packet) {
		for _, p := range pkts {
			if sr, ok := p.(*rtcp.SenderReport); ok {
				l.noteSenderReport(k, now, sr)
			}
		}
	}
}

func discard(track *webrtc.TrackRemote) {
	buf := make([]byte, receiveMTU)
	for {
		if _, _, err := track.Read(buf); err != nil {
			return
		}
	}
}

// forward reads the browser's RTP of one kind and writes each packet to the other leg's track of that kind,
// which rewrites its SSRC and payload type for that leg. Nothing is decoded, and nothing is allocated per packet.
func (l *leg) forward(track *webrtc.TrackRemote, k kind) {
	m := l.call.relay.metrics
	in := l.in[k]
	other := &l.call.legs[l.side.other().index()]
	buf := make([]byte, receiveMTU)
	var pkt rtp.Packet
	for {
		n, _, err := track.Read(buf)
		if err != nil {
			return
		}
		start := time.Now()
		if err := pkt.Unmarshal(buf[:n]); err != nil {
			continue
		}
		in.record(&pkt.Header, n, start)
		if !l.firstMedia.Load() && l.firstMedia.CompareAndSwap(false, true) {
			h, side := l.call.hooks, l.side
			l.call.emit(func() { h.FirstMedia(side) })
		}
		dst := other.Load()
		if dst == nil || dst.state.Load() != legConnected {
			m.droppedBy[k].Inc()
			continue
		}
		// Header extensions were negotiated with this browser, and their ids may differ on the other leg: drop
		// them. The other leg's interceptors add its own (the transport-wide sequence number).
		pkt.Header.Extension = false
		pkt.Header.ExtensionProfile = 0
		pkt.Header.Extensions = pkt.Header.Extensions[:0]
		switched := dst.rewrite[k].rewrite(&pkt.Header, start)
		if err := dst.out[k].WriteRTP(&pkt); err != nil {
			m.droppedBy[k].Inc()
			continue
		}
		dst.bwe.sent.Add(uint64(n))
		m.forward.Observe(time.Since(start).Seconds())
		m.packetsBy[k].Inc()
		m.bytesBy[k].Add(float64(n))
		// The first video to reach a receiver may start mid-frame, before the keyframe asked for when it
		// connected, and so does a new source's: ask again now that packets flow (requests are throttled).
		if k == kindVideo && (switched || !dst.videoFlowing.Load() && dst.videoFlowing.CompareAndSwap(false, true)) {
			l.requestKeyframe("join")
		}
	}
}

// onRTCP takes the RTCP a browser sends about one of the leg's local tracks. Keyframe requests go on to the other
// side, receiver reports give the round-trip time; NACKs were answered by the interceptors already.
func (l *leg) onRTCP(k kind) func(time.Time, []rtcp.Packet) {
	return func(now time.Time, pkts []rtcp.Packet) {
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if k == kindVideo {
					if o := l.call.other(l.side); o != nil {
						o.requestKeyframe("receiver")
					}
				}
			case *rtcp.ReceiverReport:
				l.noteReports(now, p.Reports, k)
			case *rtcp.SenderReport:
				l.noteReports(now, p.Reports, k)
			case *rtcp.TransportLayerCC:
				l.bwe.noteFeedback(p)
			}
		}
	}
}

func (l *leg) noteReports(now time.Time, reports []rtcp.ReceptionReport, k kind) {
	for _, rr := range reports {
		if rr.SSRC != l.outSSRC[k] {
			continue
		}
		if rtt, ok := reportRTT(now, rr.LastSenderReport, rr.Delay); ok {
			l.rtt.add(rtt)
		}
	}
}

// requestKeyframe asks the leg's browser for a video keyframe (RFC 4585 section 6.3.1, PLI), at most once per
// keyframeInterval.
func (l *leg) requestKeyframe(cause string) {
	ssrc := l.videoSSRC.Load()
	if ssrc == 0 || l.state.Load() != legConnected {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastKeyframe.Load()
	if now-last < int64(keyframeInterval) || !l.lastKeyframe.CompareAndSwap(last, now) {
		return
	}
	if err := l.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
		return
	}
	l.call.relay.metrics.keyframes.WithLabelValues(cause).Inc()
}

// close ends the leg: it closes the PeerConnection, waits for the leg's goroutines and keeps its measures in the
// call. The first caller does the work and gets true; others wait for it and get false.
func (l *leg) close(how string) bool {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		<-l.done
		return false
	}
	l.closing = true
	prev := l.state.Swap(legDone)
	if l.timer != nil {
		l.timer.Stop()
	}
	pc := l.pc
	l.held = nil
	l.mu.Unlock()

	if pc != nil {
		if err := pc.GracefulClose(); err != nil {
			l.log.Debug("closing peer connection", slog.Any("error", err))
		}
	}
	l.wg.Wait()

	m := l.call.relay.metrics
	switch prev {
	case legConnecting:
		m.legs.WithLabelValues("connecting").Dec()
	case legConnected:
		m.legs.WithLabelValues("connected").Dec()
	}
	m.legsEnded.WithLabelValues(how).Inc()
	l.call.fold(l)
	close(l.done)
	return true
}

// answerOffer creates the answer to the remote offer already set on pc, sets it, and waits (at most gatherTimeout) for
// the relay's own candidates, so that the answer carries them all. They are host candidates on the mux ports, so
// gathering takes microseconds.
func answerOffer(ctx context.Context, pc *webrtc.PeerConnection, log *slog.Logger) (*webrtc.SessionDescription, error) {
	desc, err := pc.CreateAnswer(nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	wait := time.NewTimer(gatherTimeout)
	defer wait.Stop()
	select {
	case <-gathered:
	case <-wait.C:
		log.Warn("candidate gathering is slow; answering with the candidates so far")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	local := pc.LocalDescription()
	if local == nil {
		return nil, errors.New("media: no local description")
	}
	return local, nil
}
