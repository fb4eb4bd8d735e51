package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/auth"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
)

// fileAnswer is the answer to a file upload: the message event, or the error.
type fileAnswer struct {
	Event struct {
		ConversationID string `json:"conversation_id"`
		Seq            int64  `json:"seq"`
		Author         string `json:"author"`
		Body           string `json:"body"`
		Data           struct {
			Attachment struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				Type string `json:"type"`
				Size int64  `json:"size"`
			} `json:"attachment"`
		} `json:"data"`
	} `json:"event"`
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

// rawRequest sends body as it is, with a visitor token (bearer) or a desk client's cookies and CSRF token.
func rawRequest(t *testing.T, env *apptest.Env, h *apptest.HTTP, method, path, bearer string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, env.URL+path, bytes.NewReader(body))
	req.Header.Set("Origin", env.URL)
	req.Header.Set("Content-Type", "application/octet-stream")
	client := http.DefaultClient
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if h != nil {
		client = h.Client
		req.Header.Set("X-CSRF-Token", h.CSRF)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func upload(t *testing.T, env *apptest.Env, h *apptest.HTTP, path, bearer string, body []byte) (int, fileAnswer) {
	t.Helper()
	resp, b := rawRequest(t, env, h, "POST", path, bearer, body)
	var out fileAnswer
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

var pngFile = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 3000)...)

// A visitor sends a screenshot and Ana an HTML page: each reads the other's; nobody else can; pictures are shown,
// anything else only downloads, never sniffed nor run.
func TestFilesInAChat(t *testing.T) {
	env := apptest.Start(t, func(c *config.Config) {
		c.Chat.MaxFileBytes, c.Auth.Secret = 64<<10, "a secret of at least 32 characters, for the files test"
	})
	ctx := t.Context()
	token := env.VisitorToken(t)
	site := url.QueryEscape(env.Site.PublicID)
	send := "/api/widget/files?site=" + site + "&name=" + url.QueryEscape(`C:\Users\claire\écran.png`) + "&client_msg_id=f1"

	st, got := upload(t, env, nil, send, token, pngFile)
	a := got.Event.Data.Attachment
	if st != 201 || got.Event.Author != "visitor" || got.Event.Body != "écran.png" || a.ID == "" || a.Name != "écran.png" ||
		a.Type != "image/png" || a.Size != int64(len(pngFile)) {
		t.Fatalf("the visitor's file: %d %+v", st, got)
	}
	conv := got.Event.ConversationID
	if st, again := upload(t, env, nil, send, token, pngFile); st != 200 || again.Event.Seq != got.Event.Seq {
		t.Fatalf("the same file again: %d %+v", st, again)
	}

	// The visitor reads it back: a picture, shown inline, in a sandbox.
	resp, body := rawRequest(t, env, nil, "GET", "/api/widget/files/"+a.ID+"?site="+site, token, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, pngFile) || resp.Header.Get("Content-Type") != "image/png" ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "sandbox") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "inline") {
		t.Fatalf("the visitor reads the file: %d %v", resp.StatusCode, resp.Header)
	}
	// Another visitor, no token, a bad or expired one, a bad id: nothing.
	other := env.VisitorToken(t)
	expired := auth.NewVisitorSigner([]byte(env.Cfg.Auth.Secret)).Issue("v-old", env.Site.ID, time.Now().Add(-time.Minute))
	for name, c := range map[string]struct {
		token, id, code string
		status          int
	}{"another visitor": {other, a.ID, "file_not_found", 404}, "no token": {"", a.ID, "token_invalid", 401},
		"a bad token": {"x.y", a.ID, "token_invalid", 401}, "an expired token": {expired, a.ID, "token_expired", 401},
		"an unknown id": {token, "at_nope", "file_not_found", 404}} {
		resp, b := rawRequest(t, env, nil, "GET", "/api/widget/files/"+c.id+"?site="+site, c.token, nil)
		if resp.StatusCode != c.status || !strings.Contains(string(b), `"`+c.code+`"`) {
			t.Errorf("%s: %d %s, want %d %s", name, resp.StatusCode, b, c.status, c.code)
		}
	}
	if st, got := upload(t, env, nil, "/api/widget/files?site="+site+"&conversation_id="+conv, other, pngFile); st != 404 ||
		got.Error.Code != "conversation_not_found" {
		t.Fatalf("another visitor sends into this conversation: %d %+v", st, got)
	}
	// Too large, empty: refused, nothing stored.
	if st, got := upload(t, env, nil, "/api/widget/files?site="+site+"&name=big.bin", token, make([]byte, 64<<10+1)); st != 413 ||
		got.Error.Code != "file_too_large" {
		t.Fatalf("a file over the limit: %d %+v", st, got)
	}
	if st, got := upload(t, env, nil, "/api/widget/files?site="+site+"&name=empty.txt", token, nil); st != 400 || got.Error.Code != "file_empty" {
		t.Fatalf("an empty file: %d %+v", st, got)
	}
	evs, err := env.Store.Events(ctx, conv, 0, 100)
	if err != nil || len(evs) != 1 {
		t.Fatalf("the transcript after the refused files: %d events %v", len(evs), err)
	}

	// The desk: Ana may not send into a conversation that is not hers; once it is, she may.
	ana := env.NewHTTP(t)
	ana.Login(demo.AnaEmail, demo.Password)
	page := []byte("<!doctype html><html><script>alert(1)</script></html>")
	deskSend := "/api/desk/conversations/" + conv + "/files?name=offer.html&client_msg_id=d1"
	if st, got := upload(t, env, ana, deskSend, "", page); st != 404 {
		t.Fatalf("Ana's file before the conversation is hers: %d %+v", st, got)
	}
	account, err := env.Store.AccountByEmail(ctx, demo.AnaEmail)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Claim(ctx, conv, account.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	noCSRF := *ana
	noCSRF.CSRF = ""
	if st, _ := upload(t, env, &noCSRF, deskSend, "", page); st != 403 {
		t.Fatalf("without the CSRF token: %d", st)
	}
	st, mine := upload(t, env, ana, deskSend, "", page)
	if st != 201 || mine.Event.Author != "agent" || mine.Event.Data.Attachment.Type != "text/html; charset=utf-8" {
		t.Fatalf("Ana's file: %d %+v", st, mine)
	}
	// The visitor downloads Ana's page as bytes, never as a page.
	resp, body = rawRequest(t, env, nil, "GET", "/api/widget/files/"+mine.Event.Data.Attachment.ID+"?site="+site, token, nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, page) || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename=offer.html` {
		t.Fatalf("the visitor reads Ana's file: %d %v", resp.StatusCode, resp.Header)
	}
	// Ana reads the visitor's; Ben (her group, but her conversation) and a stranger can't.
	if resp, body := rawRequest(t, env, ana, "GET", "/api/desk/files/"+a.ID, "", nil); resp.StatusCode != 200 || !bytes.Equal(body, pngFile) {
		t.Fatalf("Ana reads the visitor's file: %d", resp.StatusCode)
	}
	ben := env.NewHTTP(t)
	ben.Login(demo.BenEmail, demo.Password)
	if resp, _ := rawRequest(t, env, ben, "GET", "/api/desk/files/"+a.ID, "", nil); resp.StatusCode != 404 {
		t.Fatalf("Ben reads a file of Ana's conversation: %d", resp.StatusCode)
	}
	if resp, _ := rawRequest(t, env, env.NewHTTP(t), "GET", "/api/desk/files/"+a.ID, "", nil); resp.StatusCode != 401 {
		t.Fatalf("without a session: %d", resp.StatusCode)
	}

	// Once the conversation ends, no more files go into it.
	if _, err := env.Store.EndConversation(ctx, conv, account.ID, "Ana", time.Now()); err != nil {
		t.Fatal(err)
	}
	if st, got := upload(t, env, ana, "/api/desk/conversations/"+conv+"/files?name=late.png", "", pngFile); st != 409 ||
		got.Error.Code != "conversation_closed" {
		t.Fatalf("a file after the end: %d %+v", st, got)
	}
}

// A sender who sends file after file is slowed down; a server with files off says so, and tells the widget.
func TestFileLimits(t *testing.T) {
	env := apptest.Start(t, nil)
	token := env.VisitorToken(t)
	site := url.QueryEscape(env.Site.PublicID)
	limited := false
	for i := range 15 {
		st, _ := upload(t, env, nil, "/api/widget/files?site="+site+"&name=a.png&client_msg_id=r"+string(rune('a'+i)), token, pngFile)
		if st == 429 {
			limited = true
			break
		}
		if st != 201 {
			t.Fatalf("file %d: %d", i, st)
		}
	}
	if !limited {
		t.Fatal("15 files at once were all taken")
	}

	off := apptest.Start(t, func(c *config.Config) { c.Chat.MaxFileBytes = 0 })
	var cfg struct {
		MaxFileBytes *int `json:"max_file_bytes"`
	}
	if st := off.NewHTTP(t).Do("GET", "/api/widget/config?site="+url.QueryEscape(off.Site.PublicID), nil, &cfg); st != 200 ||
		cfg.MaxFileBytes == nil || *cfg.MaxFileBytes != 0 {
		t.Fatalf("the widget's config with files off: %d %+v", st, cfg)
	}
	if st, got := upload(t, off, nil, "/api/widget/files?site="+url.QueryEscape(off.Site.PublicID)+"&name=a.png", off.VisitorToken(t), pngFile); st != 403 ||
		got.Error.Code != "files_disabled" {
		t.Fatalf("a file with files off: %d %+v", st, got)
	}
}
