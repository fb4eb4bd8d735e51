package media

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestInboundStats(t *testing.T) {
	start := time.Unix(1_700_000_000, 0)
	t.Run("loss across a sequence wrap", func(t *testing.T) {
		var s inboundStats
		s.setClockRate(48000)
		seq := uint16(65530)
		for i := range 20 {
			if i == 3 || i == 9 { // two packets lost, one on each side of the wrap
				seq++
				continue
			}
			s.record(&rtp.Header{SequenceNumber: seq, Timestamp: uint32(i * 960)}, 100, start.Add(time.Duration(i)*20*time.Millisecond))
			seq++
		}
		packets, bytes, expected, lost, _, _, _, _ := s.snapshot()
		if packets != 18 || bytes != 1800 || expected != 20 || lost != 2 {
			t.Errorf("packets %d bytes %d expected %d lost %d, want 18 1800 20 2", packets, bytes, expected, lost)
		}
	})
	t.Run("a resent packet fills its gap", func(t *testing.T) {
		var s inboundStats
		s.setClockRate(90000)
		for _, seq := range []uint16{1, 2, 4, 5, 3} {
			s.record(&rtp.Header{SequenceNumber: seq}, 1000, start)
		}
		_, _, expected, lost, _, _, _, _ := s.snapshot()
		if expected != 5 || lost != 0 || s.lateCount() != 1 {
			t.Errorf("expected %d lost %d late %d, want 5 0 1", expected, lost, s.lateCount())
		}
	})
	t.Run("jitter", func(t *testing.T) {
		var s inboundStats
		s.setClockRate(48000)
		// Packets every 20 ms of media time, arriving alternately 0 and 10 ms late: |D| is 10 ms each time, and
		// the RFC 3550 estimate converges towards it.
		for i := range 400 {
			late := time.Duration(i%2) * 10 * time.Millisecond
			s.record(&rtp.Header{SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, 100,
				start.Add(time.Duration(i)*20*time.Millisecond+late))
		}
		if got := s.jitter * 1000; got < 9.5 || got > 10.5 {
			t.Errorf("jitter = %.2f ms, want about 10", got)
		}
	})
}

func TestLegStatsAverages(t *testing.T) {
	// Two legs of one side (a reload): 1 MB over 8 s and 1 MB over 2 s average to 1.6 Mb/s over 10 s.
	a := inboundTotals{packets: 1000, bytes: 1_000_000, expected: 1000, lost: 0, span: 8 * time.Second,
		jitterSum: 2, jitterRuns: 1000, rttSum: 40 * time.Millisecond, rttMeasurements: 2}
	b := inboundTotals{packets: 900, bytes: 1_000_000, expected: 1000, lost: 100, span: 2 * time.Second,
		jitterSum: 4, jitterRuns: 1000, rttSum: 60 * time.Millisecond, rttMeasurements: 1}
	a.add(b)
	s := a.legStats()
	want := LegStats{BitrateKbps: 1600, LossPct: 5, RTTMs: 100.0 / 3, JitterMs: 3, Packets: 1900, Bytes: 2_000_000}
	if !closeTo(s.BitrateKbps, want.BitrateKbps) || !closeTo(s.LossPct, want.LossPct) ||
		!closeTo(s.RTTMs, want.RTTMs) || !closeTo(s.JitterMs, want.JitterMs) || s.Packets != want.Packets ||
		s.Bytes != want.Bytes {
		t.Errorf("legStats = %+v, want %+v", s, want)
	}
	if (inboundTotals{}).legStats() != (LegStats{}) {
		t.Error("a leg that sent nothing has non-zero stats")
	}
}

func closeTo(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestReportRTT(t *testing.T) {
	sent := time.Unix(1_700_000_000, 0)
	lsr := ntpMiddle(sent)
	// The browser held the report 5 ms; the whole round trip took 45 ms, so the network's share is 40 ms.
	dlsr := uint32(5 * 65536 / 1000)
	rtt, ok := reportRTT(sent.Add(45*time.Millisecond), lsr, dlsr)
	if !ok || rtt < 39*time.Millisecond || rtt > 41*time.Millisecond {
		t.Errorf("rtt = %v, %v; want about 40ms", rtt, ok)
	}
	if _, ok := reportRTT(sent, 0, 0); ok {
		t.Error("a report without LSR gave an RTT")
	}
	if rtt, ok := reportRTT(sent, lsr, dlsr); !ok || rtt != 0 {
		t.Errorf("a negative RTT gave %v, %v; want 0, true", rtt, ok)
	}
}

func TestStreamRewriter(t *testing.T) {
	w := streamRewriter{clockRate: 90000}
	start := time.Unix(1_700_000_000, 0)
	out := func(ssrc uint32, seq uint16, ts uint32, at time.Duration) (uint16, uint32, bool) {
		h := rtp.Header{SSRC: ssrc, SequenceNumber: seq, Timestamp: ts}
		switched := w.rewrite(&h, start.Add(at))
		return h.SequenceNumber, h.Timestamp, switched
	}
	// The first source passes through unchanged.
	for i := range 3 {
		if seq, ts, sw := out(1, 100+uint16(i), 5000+uint32(i)*3000, time.Duration(i)*33*time.Millisecond); seq != 100+uint16(i) || ts != 5000+uint32(i)*3000 || sw {
			t.Fatalf("packet %d: seq %d ts %d switched %v", i, seq, ts, sw)
		}
	}
	// A new source, 1 s later, with its own numbering, continues the stream.
	seq, ts, sw := out(2, 60000, 7, 66*time.Millisecond+time.Second)
	if !sw || seq != 103 || ts != 11000+90000 {
		t.Errorf("new source: seq %d ts %d switched %v, want 103 101000 true", seq, ts, sw)
	}
	if seq, ts, _ := out(2, 60001, 3007, 99*time.Millisecond+time.Second); seq != 104 || ts != 11000+90000+3000 {
		t.Errorf("next packet: seq %d ts %d", seq, ts)
	}
	// A resent packet of the new source keeps its place.
	if seq, _, sw := out(2, 60000, 7, 120*time.Millisecond+time.Second); seq != 103 || sw {
		t.Errorf("resent packet: seq %d switched %v", seq, sw)
	}
}

func TestCheckOfferAcceptsBrowserShapes(t *testing.T) {
	for _, cfg := range []PeerConfig{{Audio: true, Video: true}, {Audio: true}, {}} {
		p, err := NewPeer(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		offer, err := p.Offer()
		_ = p.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := checkOffer(offer); err != nil {
			t.Errorf("offer of %+v: %v", cfg, err)
		}
	}
	// A typical Chrome offer (trimmed): more codecs than the relay takes, and extensions it doesn't know.
	if err := checkOffer(chromeOffer); err != nil {
		t.Errorf("Chrome's offer: %v", err)
	}
}

// chromeOffer is the shape of Chrome's offer for the widget's two transceivers.
const chromeOffer = "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"a=group:BUNDLE 0 1\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:Q1ru\r\na=ice-pwd:8V3q7pYhY5qR2kKZ3ZpA1B9m\r\na=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n" +
	"a=setup:actpass\r\na=mid:0\r\na=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n" +
	"a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=sendrecv\r\na=msid:stream audio\r\na=rtcp-mux\r\n" +
	"a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n" +
	"a=rtpmap:63 red/48000/2\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n" +
	"a=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n" +
	"a=ssrc:1001 cname:x\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n" +
	"a=ice-ufrag:Q1ru\r\na=ice-pwd:8V3q7pYhY5qR2kKZ3ZpA1B9m\r\na=ice-options:trickle\r\n" +
	"a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\n" +
	"a=setup:actpass\r\na=mid:1\r\na=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
	"a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:13 urn:3gpp:video-orientation\r\n" +
	"a=sendrecv\r\na=msid:stream video\r\na=rtcp-mux\r\na=rtcp-rsize\r\n" +
	"a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 goog-remb\r\na=rtcp-fb:96 transport-cc\r\na=rtcp-fb:96 ccm fir\r\n" +
	"a=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n" +
	"a=rtpmap:102 H264/90000\r\na=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n" +
	"a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\na=ssrc-group:FID 2001 2002\r\na=ssrc:2001 cname:x\r\n" +
	"a=ssrc:2002 cname:x\r\n"

func TestJoinAnswersChrome(t *testing.T) {
	r := newTestRelay(t, Config{})
	if err := r.Open("c", Hooks{}); err != nil {
		t.Fatal(err)
	}
	answer, err := r.Join(context.Background(), "c", SideVisitor, chromeOffer, false)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	for _, want := range []string{"a=setup:active", "opus/48000/2", "VP8/90000", "a=sendrecv", "typ host",
		"a=end-of-candidates", "transport-cc"} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
	for _, unwanted := range []string{"H264", "rtx", "G722"} {
		if strings.Contains(answer, unwanted) {
			t.Errorf("answer accepts %s:\n%s", unwanted, answer)
		}
	}
}

func TestPionLogs(t *testing.T) {
	var buf bytes.Buffer
	logs := newPionLogs(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l := logs.NewLogger("ice")
	l.Trace("trace line")
	l.Debugf("debug %d", 1)
	l.Warnf("Discarding remote candidate: %s", "mdns")            // known noise: demoted to debug
	l.Infof("%s", "Failed to read from candidate udp4 host: EOF") // noise found after formatting
	l.Warnf("DTLS handshake failed: %v", "timeout")
	l.Errorf("srtp: %s", "bad key")
	out := buf.String()
	for _, gone := range []string{"trace line", "debug 1", "Discarding", "Failed to read"} {
		if strings.Contains(out, gone) {
			t.Errorf("%q was logged at info or above:\n%s", gone, out)
		}
	}
	for _, kept := range []string{"level=WARN msg=\"DTLS handshake failed: timeout\" pion=ice",
		"srtp: bad key"} {
		if !strings.Contains(out, kept) {
			t.Errorf("%q missing:\n%s", kept, out)
		}
	}
}
