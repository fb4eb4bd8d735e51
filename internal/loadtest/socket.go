package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// frame is one envelope of the realtime protocol (docs/protocol.md).
type frame struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Seq  int64           `json:"seq,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// protoError is an error frame's payload: the server refused a request.
type protoError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *protoError) Error() string { return fmt.Sprintf("error %d: %s", e.Code, e.Message) }

var errSocketClosed = errors.New("the socket closed")

// socket is one WebSocket to Parley. A goroutine reads its frames: replies go to the request waiting for them,
// pings are answered, and every other frame goes to onFrame, on that goroutine (so onFrame must not wait for a
// reply on the same socket).
type socket struct {
	ws      *websocket.Conn
	onFrame func(frame)

	mu      sync.Mutex
	seq     int
	waiting map[string]chan frame
	closed  bool
	err     error
	done    chan struct{} // closed when the reader has stopped
}

// dialSocket opens a socket from origin, with client's cookies and transport.
func dialSocket(ctx context.Context, wsURL, origin string, client *http.Client, onFrame func(frame)) (*socket, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: client,
		HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("open socket: HTTP %d", resp.StatusCode)
		}
		return nil, fmt.Errorf("open socket: %w", err)
	}
	ws.SetReadLimit(1 << 20)
	s := &socket{ws: ws, onFrame: onFrame, waiting: map[string]chan frame{}, done: make(chan struct{})}
	go s.read()
	return s, nil
}

func (s *socket) read() {
	defer close(s.done)
	for {
		_, data, err := s.ws.Read(context.Background())
		if err != nil {
			s.mu.Lock()
			s.closed = true
			if s.err == nil {
				s.err = fmt.Errorf("%w (%v)", errSocketClosed, err)
			}
			for id, ch := range s.waiting {
				close(ch)
				delete(s.waiting, id)
			}
			s.mu.Unlock()
			return
		}
		var f frame
		if json.Unmarshal(data, &f) != nil {
			continue
		}
		switch f.Type {
		case "ping":
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = s.ws.Write(ctx, websocket.MessageText, []byte(`{"v":1,"type":"pong"}`))
			cancel()
			continue
		case "ack", "error":
			if f.ID != "" {
				s.mu.Lock()
				ch := s.waiting[f.ID]
				delete(s.waiting, f.ID)
				s.mu.Unlock()
				if ch != nil {
					ch <- f
					continue
				}
			}
		}
		if s.onFrame != nil {
			s.onFrame(f)
		}
	}
}

// send writes a frame that expects no reply.
func (s *socket) send(ctx context.Context, typ string, data any) error {
	return s.write(ctx, typ, "", data)
}

func (s *socket) write(ctx context.Context, typ, id string, data any) error {
	d, err := json.Marshal(data)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(frame{V: 1, Type: typ, ID: id, Data: d})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.ws.Write(ctx, websocket.MessageText, raw); err != nil {
		return fmt.Errorf("send %s: %w", typ, err)
	}
	return nil
}

// pending is a request sent and not yet answered.
type pending struct {
	s  *socket
	id string
	ch chan frame
}

// start sends a request; wait gets its reply.
func (s *socket) start(ctx context.Context, typ string, data any) (*pending, error) {
	s.mu.Lock()
	if s.closed {
		err := s.err
		s.mu.Unlock()
		return nil, err
	}
	s.seq++
	p := &pending{s: s, id: typ + "-" + strconv.Itoa(s.seq), ch: make(chan frame, 1)}
	s.waiting[p.id] = p.ch
	s.mu.Unlock()
	if err := s.write(ctx, typ, p.id, data); err != nil {
		s.forget(p.id)
		return nil, err
	}
	return p, nil
}

// wait returns the ack's data, or the error frame as a *protoError.
func (p *pending) wait(ctx context.Context) (json.RawMessage, error) {
	select {
	case f, ok := <-p.ch:
		if !ok {
			p.s.mu.Lock()
			defer p.s.mu.Unlock()
			return nil, p.s.err
		}
		if f.Type == "error" {
			pe := &protoError{}
			if err := json.Unmarshal(f.Data, pe); err != nil {
				return nil, fmt.Errorf("unreadable error frame %s", f.Data)
			}
			return nil, pe
		}
		return f.Data, nil
	case <-ctx.Done():
		p.s.forget(p.id)
		return nil, ctx.Err()
	}
}

func (s *socket) forget(id string) {
	s.mu.Lock()
	delete(s.waiting, id)
	s.mu.Unlock()
}

// request sends a request and waits for its reply, decoding the ack's data into out when out is not nil.
func (s *socket) request(ctx context.Context, typ string, data, out any) error {
	p, err := s.start(ctx, typ, data)
	if err != nil {
		return err
	}
	raw, err := p.wait(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", typ, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s: unreadable ack %s", typ, raw)
		}
	}
	return nil
}

// close closes the socket and waits for its reader to stop.
func (s *socket) close() {
	s.mu.Lock()
	if s.err == nil {
		s.err = errSocketClosed
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.ws.Close(websocket.StatusNormalClosure, "load test over")
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		_ = s.ws.CloseNow()
		<-done
	}
	<-s.done
}
