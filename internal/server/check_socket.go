package server

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// The pre-call check page (/check) times the signalling path with a socket of its own: no visitor, no session, it
// only echoes a few small frames. The limits keep it from being anything more than that, and an address opens
// checkSocketPerMinute of them at most (check_api.go).
const (
	checkSocketFrames   = 20               // echoes per connection
	checkSocketMaxBytes = 256              // per frame
	checkSocketLifetime = 10 * time.Second // then it closes, whatever the client does
)

// checkSocket upgrades /ws/check and sends every text frame back as it came, so the page can measure round trips
// through the same proxies and load balancers as the real sockets. Only Parley's own pages may open it.
func (s *Server) checkSocket(w http.ResponseWriter, r *http.Request) {
	if !s.sameOrigin(r) {
		writeError(w, http.StatusForbidden, "origin_not_allowed", "the check socket is for Parley's own pages")
		return
	}
	if !s.checkLimits.socket.allow(clientIP(r, s.cfg.HTTP.TrustProxy), s.now()) {
		writeError(w, http.StatusTooManyRequests, "rate_limited", "too many checks from this address: try again in a minute")
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return // Accept has answered the request
	}
	ws.SetReadLimit(checkSocketMaxBytes)
	ctx, cancel := context.WithTimeout(r.Context(), checkSocketLifetime)
	defer cancel()
	for i := 0; i < checkSocketFrames; i++ {
		typ, msg, err := ws.Read(ctx)
		if err != nil {
			ws.CloseNow()
			return
		}
		if typ != websocket.MessageText {
			ws.Close(websocket.StatusUnsupportedData, "text frames only")
			return
		}
		if err := ws.Write(ctx, websocket.MessageText, msg); err != nil {
			ws.CloseNow()
			return
		}
	}
	ws.Close(websocket.StatusNormalClosure, "enough")
}
