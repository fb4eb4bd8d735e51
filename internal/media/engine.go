package media

import (
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Payload types of the two codecs. They match what Chrome and Firefox offer first, so answers rarely remap them;
// the relay rewrites them per leg anyway.
const (
	ptOpus = 111
	ptVP8  = 96
)

var (
	// The one audio and one video codec every leg uses. With a single codec per kind, what one browser sends is
	// always something the other can decode, so the relay never transcodes.
	opusCodec = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
	}
	vp8Codec = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000,
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: webrtc.TypeRTCPFBNACK},
			{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
			{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
			{Type: webrtc.TypeRTCPFBGoogREMB},
			{Type: webrtc.TypeRTCPFBTransportCC},
		},
	}
)

// newMediaEngine registers Opus and VP8 and the header extensions the relay negotiates: transport-wide sequence
// numbers (for TWCC feedback) and the MID (so a stream whose SSRC the offer didn't declare is still demultiplexed).
func newMediaEngine() (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: ptOpus},
		webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: vp8Codec, PayloadType: ptVP8},
		webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		for _, uri := range []string{sdp.TransportCCURI, sdp.SDESMidURI} {
			if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: uri}, kind); err != nil {
				return nil, err
			}
		}
	}
	return me, nil
}

// interceptorOptions tunes the RTP/RTCP interceptors.
type interceptorOptions struct {
	// reportInterval is how often sender and receiver reports go out (RFC 3550 section 6.2 suggests about 5 s
	// for a small session; browsers send them every second, and so does the relay). Tests shorten it.
	reportInterval time.Duration
	// nackBuffer is how many sent video packets each outgoing stream keeps to answer NACKs (a power of two), at
	// about 1.2 KB each. 128 packets are about 2 s of video at 500 kb/s: a retransmission that comes later than
	// that is too late for the receiver's jitter buffer anyway.
	nackBuffer uint16
}

// newInterceptors builds the interceptor factories every leg and every Peer uses: NACK generator and responder
// (RFC 4585 section 6.2.1), sender and receiver reports (RFC 3550 section 6.4), and transport-wide congestion
// control (draft-holmer-rmcat-transport-wide-cc-extensions-01): sequence numbers on what is sent, feedback on what
// is received. The factories hold no state of their own, so one set serves every connection.
func newInterceptors(logs logging.LoggerFactory, opts interceptorOptions) ([]interceptor.Factory, error) {
	if opts.reportInterval <= 0 {
		opts.reportInterval = time.Second
	}
	if opts.nackBuffer == 0 {
		opts.nackBuffer = 128
	}
	// A packet is asked for again at most maxNacksPerPacket times: on a saturated link, NACKs without a bound
	// make retransmissions crowd out new media, and the loss feeds itself.
	generator, err := nack.NewGeneratorInterceptor(nack.GeneratorSize(512),
		nack.GeneratorMaxNacksPerPacket(maxNacksPerPacket), nack.WithGeneratorLoggerFactory(logs))
	if err != nil {
		return nil, err
	}
	responder, err := nack.NewResponderInterceptor(nack.ResponderSize(opts.nackBuffer),
		nack.WithResponderLoggerFactory(logs))
	if err != nil {
		return nil, err
	}
	receiverReports, err := report.NewReceiverInterceptor(report.ReceiverInterval(opts.reportInterval),
		report.WithReceiverLoggerFactory(logs))
	if err != nil {
		return nil, err
	}
	senderReports, err := report.NewSenderInterceptor(report.SenderInterval(opts.reportInterval),
		report.WithSenderLoggerFactory(logs))
	if err != nil {
		return nil, err
	}
	twccSequence, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		return nil, err
	}
	twccFeedback, err := twcc.NewSenderInterceptor(twcc.WithLoggerFactory(logs))
	if err != nil {
		return nil, err
	}
	return []interceptor.Factory{responder, generator, receiverReports, senderReports, twccSequence, twccFeedback}, nil
}

// maxNacksPerPacket bounds the NACKs for one lost packet (see newInterceptors).
const maxNacksPerPacket = 2

// newAPI returns a pion API with the given engines and a fresh registry of the shared interceptor factories.
func newAPI(me *webrtc.MediaEngine, se webrtc.SettingEngine, factories []interceptor.Factory) *webrtc.API {
	reg := &interceptor.Registry{}
	for _, f := range factories {
		reg.Add(f)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se),
		webrtc.WithInterceptorRegistry(reg))
}
