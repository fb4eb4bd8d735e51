// Package e2e holds the browser tests: the real server, driven through Debian's headless Chromium over CDP.
package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/parley/parley/internal/demo"
)

// chromiumPath finds the browser. There is no skip: `make test` installs Chromium, and a machine without it fails
// here with a message saying so.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("PARLEY_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: run `make test`, which installs Debian's chromium package, or set PARLEY_CHROMIUM")
	return ""
}

// newBrowser starts a headless Chromium for the test, with a fresh profile and fake camera and microphone.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(opts, extra...)...)
	ctx, cancel := chromedp.NewContext(alloc)
	if err := chromedp.Do(ctx); err != nil {
		cancelAlloc()
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// tab is one page in its own browser context (its own cookies and storage), like a separate person.
type tab struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func newTab(t *testing.T, browser context.Context, name string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// The first run opens the tab and lives as long as its context: it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open tab %s: %v", name, err)
	}
	return &tab{t: t, name: name, ctx: ctx}
}

// sibling opens another tab in b's browser context: the same person (cookies, storage) in a second tab.
func (b *tab) sibling(name string) *tab {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("open tab %s: %v", name, err)
	}
	return &tab{t: b.t, name: name, ctx: ctx}
}

func (b *tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %s: %v", b.name, what, err)
	}
}

func (b *tab) navigate(url string) { b.t.Helper(); b.run("open "+url, chromedp.Navigate(url)) }

func (b *tab) reload() { b.t.Helper(); b.run("reload", chromedp.Reload()) }

// eval runs a JavaScript expression and returns its value.
func eval[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// check evaluates a JavaScript expression once, as a boolean.
func (b *tab) check(expr string) (bool, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
}

// waitFor polls a JavaScript expression until it is true, for up to 15 s.
func (b *tab) waitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := b.check(expr)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: timed out waiting until %s (%s); last error: %v", b.name, what, expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// click sends a real mouse click to the element a JS expression returns, once it is visible and enabled. The page
// may re-render between the check and the click (a list updated by a live event); the click is then tried again.
func (b *tab) click(jsPath string) {
	b.t.Helper()
	b.retry("click "+jsPath, jsPath, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Click(chromedp.JSPath(jsPath), chromedp.NodeVisible))
	})
}

// typeInto focuses an element, once it is visible and enabled, and types text with key events.
func (b *tab) typeInto(jsPath, text string) {
	b.t.Helper()
	b.retry("type into "+jsPath, jsPath, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.SendKeys(chromedp.JSPath(jsPath), text, chromedp.NodeVisible))
	})
}

// pressEnter focuses an element and presses Enter as a person does: one keyDown carrying the key's text, then keyUp.
// A page that cancels the keydown gets no new line, as in a browser. (SendKeys types "\r" in a separate char event,
// which the page can't cancel.)
func (b *tab) pressEnter(jsPath string) {
	b.t.Helper()
	b.retry("focus "+jsPath, jsPath, func(ctx context.Context) error {
		return chromedp.Do(ctx, chromedp.Focus(chromedp.JSPath(jsPath), chromedp.NodeVisible))
	})
	for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeKeyDown, input.DispatchKeyEventTypeKeyUp} {
		p := input.DispatchKeyEventParams{Type: typ, Key: "Enter", Code: "Enter", WindowsVirtualKeyCode: 13}
		if typ == input.DispatchKeyEventTypeKeyDown {
			p.Text = "\r"
		}
		if _, err := chromedp.Call(b.ctx, input.DispatchKeyEvent, p); err != nil {
			b.t.Fatalf("%s: press Enter in %s: %v", b.name, jsPath, err)
		}
	}
}

// retry waits until the element is usable and runs the action, trying again for up to 15 s when the element was
// replaced or disabled in between. An attempt that ran out of time may still have gone through (a loaded machine
// answers late): if the element is gone then, as a button that hides its own panel is, it is not tried again; the
// test's next assertions check what the action did.
func (b *tab) retry(what, jsPath string, action func(context.Context) error) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b.waitFor("usable "+jsPath, usable(jsPath))
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		err := action(ctx)
		cancel()
		if err == nil {
			return
		}
		if still, checkErr := b.check(usable(jsPath)); errors.Is(err, context.DeadlineExceeded) && checkErr == nil && !still {
			return
		}
		if time.Now().After(deadline) || b.ctx.Err() != nil {
			b.t.Fatalf("%s: %s: %v", b.name, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// usable is an expression true when the element is visible and not disabled.
func usable(jsPath string) string {
	return fmt.Sprintf("(%s) && !(%s).disabled", visible(jsPath), jsPath)
}

// visible is an expression true when the element exists and takes space on screen.
func visible(jsPath string) string {
	return fmt.Sprintf("(() => { const el = %s; return !!el && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'; })()", jsPath)
}

// byTestID selects within a document expression: byTestID("document", "launcher").
func byTestID(doc, id string) string {
	return fmt.Sprintf("%s.querySelector('[data-testid=%q]')", doc, id)
}

// Where the widget's parts live on a host page: the launcher in a shadow root, the chatbox in an iframe inside it.
const (
	widgetRoot = "document.querySelector('parley-widget').shadowRoot"
	widgetDoc  = widgetRoot + ".querySelector('iframe').contentDocument"
)

// message is one transcript entry as shown.
type message struct {
	Author string `json:"author"`
	Text   string `json:"text"`
}

// messages reads the transcript shown in a document.
func (b *tab) messages(doc string) []message {
	b.t.Helper()
	return eval[[]message](b, fmt.Sprintf("[...%s.querySelectorAll('[data-testid=\"message\"]')].map(m => ({author: m.dataset.author, text: m.innerText}))", doc))
}

// hasMessage is an expression true when doc shows a message by author containing text.
func hasMessage(doc, author, text string) string {
	return fmt.Sprintf("[...%s.querySelectorAll('[data-testid=\"message\"][data-author=%q]')].some(m => m.innerText.includes(%q))", doc, author, text)
}

// bodies keeps the messages whose text contains one of the given bodies, as "author: body".
func bodies(ms []message, want ...string) []string {
	var out []string
	for _, m := range ms {
		for _, w := range want {
			if strings.Contains(m.Text, w) {
				out = append(out, m.Author+": "+w)
			}
		}
	}
	return out
}

// loginDesk logs an agent in to the desk and makes them available for chat.
func loginDesk(a *tab, url, email string) {
	a.t.Helper()
	signInDesk(a, url, email)
	setAvailable(a, "chat")
}

// signInDesk logs an agent in to the desk, who stays offline.
func signInDesk(a *tab, url, email string) {
	a.t.Helper()
	a.navigate(url + "/desk/")
	a.typeInto(byTestID("document", "login-email"), email)
	a.typeInto(byTestID("document", "login-password"), demo.Password)
	a.click(byTestID("document", "login-submit"))
	toggle := byTestID("document", "presence-chat")
	a.waitFor("the desk shows the agent's presence", toggle+" && "+toggle+".dataset.status !== 'unknown'")
}

// chatWithAna signs Ana in to the desk (available for chat), has the visitor start a chat with text, and waits
// until Ana has it.
func chatWithAna(visitor, ana *tab, url, text string) {
	visitor.t.Helper()
	loginDesk(ana, url, demo.AnaEmail)
	startChat(visitor, url, text)
	visitor.waitFor("Ana answers", hasMessage(widgetDoc, "system", "Ana joined"))
}

// setAvailable switches on the desk's presence toggle for a channel (chat or video).
func setAvailable(a *tab, channel string) {
	a.t.Helper()
	toggle := byTestID("document", "presence-"+channel)
	a.waitFor("the "+channel+" toggle is usable", toggle+" && !"+toggle+".disabled")
	if !eval[bool](a, toggle+".getAttribute('aria-pressed') === 'true'") {
		a.click(toggle)
	}
	a.waitFor("the agent is available for "+channel, toggle+".getAttribute('aria-pressed') === 'true'")
}

// startChat opens the widget on the demo shop and sends a first message.
func startChat(v *tab, url, text string) {
	v.t.Helper()
	v.navigate(url + "/demo/")
	v.click(byTestID(widgetRoot, "launcher"))
	v.waitFor("the chatbox opens", visible(byTestID(widgetDoc, "chatbox")))
	v.typeInto(byTestID(widgetDoc, "message-input"), text)
	v.click(byTestID(widgetDoc, "send-message"))
	v.waitFor("the message is shown", hasMessage(widgetDoc, "visitor", text))
}
