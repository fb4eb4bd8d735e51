package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"time"
)

// apiClient talks to Parley's HTTP API like a browser: it keeps its session cookie, sends Parley's own origin and,
// once logged in, the CSRF token.
type apiClient struct {
	base   string // http://host:port
	origin string
	hc     *http.Client
	csrf   string
}

func newAPIClient(base, origin string, transport http.RoundTripper) *apiClient {
	jar, _ := cookiejar.New(nil)
	return &apiClient{base: base, origin: origin,
		hc: &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second}}
}

// apiError is an error answer of the API.
type apiError struct {
	Method, Path string
	Status       int
	Code         string
	Message      string
}

func (e *apiError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
	}
	return fmt.Sprintf("%s %s: HTTP %d %s (%s)", e.Method, e.Path, e.Status, e.Code, e.Message)
}

func isStatus(err error, status int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == status
}

// do sends a JSON request and decodes a 2xx answer into out, when out is not nil.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", c.origin)
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &apiError{Method: method, Path: path, Status: resp.StatusCode}
		var body struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &body) == nil {
			e.Code, e.Message = body.Error.Code, body.Error.Message
		}
		return e
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: unreadable answer: %w", method, path, err)
		}
	}
	return nil
}

// account is an ACCOUNT of docs/api.md.
type account struct {
	ID           string   `json:"id"`
	Email        string   `json:"email"`
	Name         string   `json:"name"`
	Role         string   `json:"role"`
	Disabled     bool     `json:"disabled"`
	ChatCapacity int      `json:"chat_capacity"`
	GroupIDs     []string `json:"group_ids"`
}

// login opens a session and keeps its CSRF token.
func (c *apiClient) login(ctx context.Context, email, password string) (account, error) {
	var out struct {
		Account account `json:"account"`
		CSRF    string  `json:"csrf_token"`
	}
	if err := c.do(ctx, "POST", "/api/auth/login", map[string]string{"email": email, "password": password}, &out); err != nil {
		return account{}, err
	}
	c.csrf = out.CSRF
	return out.Account, nil
}

// site is a SITE of docs/api.md.
type site struct {
	ID       string `json:"id"`
	PublicID string `json:"public_id"`
	Name     string `json:"name"`
	GroupID  string `json:"group_id"`
}

// group is a GROUP of docs/api.md.
type group struct {
	ID                  string   `json:"id"`
	Name                string   `json:"name"`
	Channels            []string `json:"channels"`
	QueuePlaces         int      `json:"queue_places"`
	OfferTimeoutSeconds int      `json:"offer_timeout_seconds"`
}

func (g group) hasVideo() bool {
	for _, c := range g.Channels {
		if c == "video" {
			return true
		}
	}
	return false
}

// visitorToken starts a new visitor on the site, as the widget does.
func (c *apiClient) visitorToken(ctx context.Context, publicID string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := c.do(ctx, "POST", "/api/widget/session", map[string]string{"site": publicID}, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", errors.New("widget session: no token in the answer")
	}
	return out.Token, nil
}
