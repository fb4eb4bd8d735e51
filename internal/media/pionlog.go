package media

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/pion/logging"
)

// pionLogs routes pion's logs into slog. Pion is chatty: its trace and debug lines are dropped, and the info and
// warning lines it writes in normal operation (a browser's mDNS candidate, a packet for a connection that just
// closed) are demoted to debug, so that what reaches an operator at info and above is worth reading.
type pionLogs struct {
	log *slog.Logger
}

var _ logging.LoggerFactory = pionLogs{}

func newPionLogs(log *slog.Logger) pionLogs {
	return pionLogs{log: log}
}

// NewLogger implements logging.LoggerFactory.
func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return &pionLogger{log: f.log, scope: scope}
}

// pionNoise lists substrings of pion messages that are expected in normal operation. They are logged at debug.
var pionNoise = []string{
	"should not listening on unspecified address", // UDPMuxDefault bound to 0.0.0.0, which Parley does on purpose
	"Discarding remote candidate",                 // a browser's mDNS (.local) candidate: mDNS is off here
	"dropping candidate with ufrag",               // a candidate from the leg a reload replaced
	"Failed to discover mDNS candidate",
	"Incoming unhandled RTP ssrc",
	"unhandled RTCP",
	"use of closed network connection",
	"closed pipe",
	"io: read/write on closed",
	"conn is closed",
	"already closed",
	"Failed to read from candidate",
	"Failed to send packet",
	"failed to send packet",
	"Failed to ping without candidate pairs",
	"failed to get RTP Header",
	"Failed to accept RTP",
	"Failed to accept RTCP",
	"Failed to handle decrypted",
	"Failed to decrypt",
	"duplicated packet",
	"ICE connection state changed",
	"peer connection state changed",
	"Setting new connection state",
	"Discard message from",
	"Failed to set read deadline",
	"failed to close",
	"Failed to close",
	"the agent is closed",
	"The agent is closed",
	"context canceled",
	"EOF",
	"signaling state changed",                      // every offer and answer
	"has not started yet",                          // RTCP reports and early packets before DTLS is up
	"connecting canceled by caller",                // a leg closed while connecting
	"Closing PeerConnection from DTLS CloseNotify", // the browser closed; the relay logs "leg failed"
	"Listening TCP on",                             // the relay logs its ports itself
	"Added connection: tcp",
	"Ignoring remote candidate with tcpType active",
	"Virtual network is enabled", // tests and simulations only
	"no endpoint for packet",     // a DTLS packet that came before DTLS started; it is queued
}

func isPionNoise(msg string) bool {
	for _, n := range pionNoise {
		if strings.Contains(msg, n) {
			return true
		}
	}
	return false
}

// pionLogger is one pion scope's logger.
type pionLogger struct {
	log   *slog.Logger
	scope string
}

func (l *pionLogger) emit(level slog.Level, format string, args []any) {
	// The format string is enough to recognise noise, and checking it first spares the formatting.
	if isPionNoise(format) {
		level = slog.LevelDebug
	}
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	msg := format
	if args != nil {
		msg = fmt.Sprintf(format, args...)
		if level > slog.LevelDebug && isPionNoise(msg) {
			level = slog.LevelDebug
			if !l.log.Enabled(ctx, level) {
				return
			}
		}
	}
	l.log.Log(ctx, level, msg, slog.String("pion", l.scope))
}

func (l *pionLogger) Trace(string)          {}
func (l *pionLogger) Tracef(string, ...any) {}
func (l *pionLogger) Debug(string)          {}
func (l *pionLogger) Debugf(string, ...any) {}

func (l *pionLogger) Info(msg string)                  { l.emit(slog.LevelInfo, msg, nil) }
func (l *pionLogger) Infof(format string, args ...any) { l.emit(slog.LevelInfo, format, nonNil(args)) }
func (l *pionLogger) Warn(msg string)                  { l.emit(slog.LevelWarn, msg, nil) }
func (l *pionLogger) Warnf(format string, args ...any) { l.emit(slog.LevelWarn, format, nonNil(args)) }

// Pion's "errors" are about one connection (a peer that went away mid-handshake), never about the node, so they
// are logged as warnings.
func (l *pionLogger) Error(msg string)                  { l.emit(slog.LevelWarn, msg, nil) }
func (l *pionLogger) Errorf(format string, args ...any) { l.emit(slog.LevelWarn, format, nonNil(args)) }

// nonNil marks a call as formatted even when it has no arguments, so that "%%" is rendered the way pion meant.
func nonNil(args []any) []any {
	if args == nil {
		return []any{}
	}
	return args
}
