package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
	"github.com/parley/parley/internal/store"
)

// mediaRecorderScript runs in every frame of a tab before the page's own scripts: it records each getUserMedia
// request (its constraints, as JSON) and each RTCPeerConnection, so a test can tell what was asked of the devices
// and read the call's statistics without any hook in the product.
const mediaRecorderScript = `(() => {
  if (window.__parleyTest) return;
  const rec = window.__parleyTest = { gum: [], pcs: [] };
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const ask = md.getUserMedia.bind(md);
    md.getUserMedia = (constraints) => {
      rec.gum.push(JSON.stringify(constraints || {}));
      return ask(constraints);
    };
  }
  const PC = window.RTCPeerConnection;
  if (PC) {
    window.RTCPeerConnection = class extends PC {
      constructor(...args) {
        super(...args);
        rec.pcs.push(this);
      }
    };
  }
})();`

// recordMedia installs mediaRecorderScript in every document the tab opens from now on, iframes included.
func recordMedia(b *tab) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: mediaRecorderScript}); err != nil {
		b.t.Fatalf("%s: install the media recorder: %v", b.name, err)
	}
}

// widgetFrameWindow is the chatbox iframe's window.
const widgetFrameWindow = widgetRoot + ".querySelector('iframe').contentWindow"

// visitorMediaRequests returns the visitor's getUserMedia requests so far, and how many of them asked for video.
func visitorMediaRequests(b *tab) (all, video int) {
	b.t.Helper()
	for _, raw := range eval[[]string](b, widgetFrameWindow+".__parleyTest.gum") {
		var c map[string]any
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			b.t.Fatalf("getUserMedia constraints %s: %v", raw, err)
		}
		all++
		if v, ok := c["video"]; ok && v != false && v != nil {
			video++
		}
	}
	return all, video
}

// evalPromise runs a JavaScript expression that gives a promise, and returns what it resolves to.
func evalPromise[T any](b *tab, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: evaluate %s: %v", b.name, expr, err)
	}
	return v
}

// inboundAudio is an expression giving the audio bytes and packets received by the tab's connected peer
// connections (RTCPeerConnection.getStats, inbound-rtp).
const inboundAudio = `(async () => {
  const out = { bytes: 0, packets: 0 };
  for (const pc of window.__parleyTest.pcs) {
    if (pc.connectionState !== 'connected') continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        out.bytes += s.bytesReceived || 0;
        out.packets += s.packetsReceived || 0;
      }
    });
  }
  return out;
})()`

type audioCount struct {
	Bytes   int `json:"bytes"`
	Packets int `json:"packets"`
}

// hears waits until the tab's call receives audio that keeps coming.
func hears(b *tab, what string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	first := evalPromise[audioCount](b, inboundAudio)
	for {
		time.Sleep(250 * time.Millisecond)
		now := evalPromise[audioCount](b, inboundAudio)
		if first.Packets > 0 && now.Packets > first.Packets+20 && now.Bytes > first.Bytes {
			return
		}
		if first.Packets == 0 {
			first = now
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: %s: the audio received went from %+v to %+v", b.name, what, first, now)
		}
	}
}

// signInAdmin signs in to the admin app on the tab named by hash (#chatbox, #notification...).
func signInAdmin(a *tab, url, hash string) {
	a.t.Helper()
	a.navigate(url + "/admin/" + hash)
	a.typeInto(byTestID("document", "login-email"), demo.AdminEmail)
	a.typeInto(byTestID("document", "login-password"), demo.Password)
	a.click(byTestID("document", "login-submit"))
}

// pickBuilderSite chooses the site a builder edits.
func pickBuilderSite(a *tab, siteID string) {
	a.t.Helper()
	picker := byTestID("document", "admin-builder-site")
	a.waitFor("the site picker lists the site", fmt.Sprintf("%s && [...%s.options].some(o => o.value === %q)", picker, picker, siteID))
	eval[bool](a, fmt.Sprintf("(() => { const s = %s; if (s.value !== %q) { s.value = %q; s.dispatchEvent(new Event('change')); } return true; })()",
		picker, siteID, siteID))
}

// saveAdminForm clicks the form's admin-save and waits for its success message.
func saveAdminForm(a *tab, what string) {
	a.t.Helper()
	a.click(byTestID("document", "admin-save"))
	a.waitFor(what, visible("document.querySelector('.form-message--success')"))
}

// The admin turns "Allow visitor's camera" off in the chatbox builder and writes the notification in the
// notification builder. A visitor then joins video: their camera is never asked for and there is no camera
// control, the notification and the reassurance message are the admin's (as text, never HTML), Ana's video
// reaches the visitor, Ana sees the camera-off placeholder, and the visitor's microphone reaches Ana.
func TestCameraNotAllowed(t *testing.T) {
	env := apptest.Start(t, nil)
	visitorBrowser := newBrowser(t)
	admin := newTab(t, visitorBrowser, "admin")
	visitor := newTab(t, visitorBrowser, "visitor")
	agent := newTab(t, newBrowser(t), "agent")

	// 1. The chatbox builder's video tab.
	signInAdmin(admin, env.URL, "#chatbox")
	pickBuilderSite(admin, env.Site.ID)
	allow := byTestID("document", "admin-allow-visitor-camera")
	admin.waitFor("the camera is allowed by default", allow+" && "+allow+".checked")
	admin.click(allow)
	admin.waitFor("the checkbox is off", "!"+allow+".checked")
	saveAdminForm(admin, "the camera policy is saved")
	if v, err := env.Store.SiteVideo(context.Background(), env.Site.ID); err != nil || v.CameraAllowed {
		t.Fatalf("stored policy %+v, %v: the camera is still allowed", v, err)
	}

	// 2. The notification builder: a card with an English title, and an English reassurance message with markup
	// that must show as plain text, in the live preview and in the widget.
	const title = "See our experts live"
	const reassurance = "Your camera stays off: <b>we only hear you</b>."
	admin.click("document.getElementById('tab-notification')")
	pickBuilderSite(admin, env.Site.ID)
	// A text too long is refused, with the field and the limit named, before anything is sent.
	button := byTestID("document", "admin-notification-button-en")
	admin.typeInto(button, strings.Repeat("x", store.MaxNotificationButton+1))
	admin.click(byTestID("document", "admin-save"))
	admin.waitFor("the form says what is wrong", fmt.Sprintf(
		"[...document.querySelectorAll('.field__error')].some(e => !e.hidden && e.textContent.includes('English button label is too long: at most %d'))",
		store.MaxNotificationButton))
	eval[bool](admin, button+".value = ''; "+button+".dispatchEvent(new Event('input', {bubbles: true})); true")
	admin.click(byTestID("document", "admin-notification-format-card"))
	admin.typeInto(byTestID("document", "admin-notification-title-en"), title)
	admin.typeInto(byTestID("document", "admin-reassurance-en"), reassurance)
	preview := byTestID("document", "admin-notification-preview") + ".contentDocument"
	admin.waitFor("the preview shows the card and the message as text", fmt.Sprintf(
		"%s.querySelector('.video-note__title').textContent === %q && %s.textContent === %q && !%s.querySelector('b')",
		preview, title, byTestID(preview, "camera-reassurance"), reassurance, byTestID(preview, "camera-reassurance")))
	saveAdminForm(admin, "the notification is saved")

	// 3. The visitor: getUserMedia is recorded from the first document on.
	recordMedia(visitor)
	recordMedia(agent)
	startChat(visitor, env.URL, "Can we talk without my camera?")
	loginDesk(agent, env.URL, demo.AnaEmail)
	setAvailable(agent, "video")

	note := byTestID(widgetDoc, "video-notification")
	shown := byTestID(widgetDoc, "camera-reassurance")
	visitor.waitFor("the admin's notification and reassurance are shown", fmt.Sprintf(
		"%s && %s && %s.dataset.format === 'card' && %s.querySelector('.video-note__title').textContent === %q && %s.textContent === %q && !%s.querySelector('b')",
		visible(note), visible(shown), note, note, title, shown, reassurance, shown))

	// 4. The lobby asks for the microphone only, and has no camera control.
	visitor.click(byTestID(widgetDoc, "join-video"))
	visitor.waitFor("the lobby opens", visible(byTestID(widgetDoc, "video-lobby")))
	visitor.waitFor("the microphone is ready", usable(byTestID(widgetDoc, "join-now")))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "lobby-camera"))) {
		t.Fatal("the lobby shows a camera control")
	}
	visitor.click(byTestID(widgetDoc, "join-now"))
	agent.click(byTestID("document", "accept-call"))

	// 5. Ana's video reaches the visitor; Ana sees the placeholder; the visitor's sound reaches Ana.
	advancing(visitor, "the visitor sees Ana", widgetDoc)
	agent.waitFor("Ana sees the camera-off placeholder", visible(byTestID("document", "remote-camera-off")))
	agent.waitFor("Ana's call has the visitor's live audio track",
		byTestID("document", "remote-audio")+".srcObject.getAudioTracks().some(t => t.readyState === 'live')")
	hears(agent, "Ana hears the visitor")
	if n := eval[int](agent, framesDecoded("document")); n != 0 {
		t.Fatalf("Ana decoded %d frames of a visitor whose camera is not used", n)
	}
	visitor.waitFor("the call window is up", visible(byTestID(widgetDoc, "hangup")))
	if eval[bool](visitor, visible(byTestID(widgetDoc, "toggle-camera"))) {
		t.Fatal("the call window shows a camera control")
	}
	if n := eval[int](visitor, byTestID(widgetDoc, "self-video")+".srcObject.getVideoTracks().length"); n != 0 {
		t.Fatalf("the visitor's own stream has %d video tracks", n)
	}
	all, video := visitorMediaRequests(visitor)
	if all == 0 || video != 0 {
		t.Fatalf("getUserMedia was called %d times, %d of them for the camera; want the microphone only", all, video)
	}
}

// "Disable visitor camera by default": the visitor joins with the camera off (Ana sees the placeholder and no
// frames), then turns it on, and Ana sees frames.
func TestCameraOffByDefault(t *testing.T) {
	env := apptest.Start(t, nil)
	v := store.DefaultSiteVideo()
	v.CameraOffByDefault = true
	if _, err := env.Store.SetSiteVideo(context.Background(), env.Site.ID, v); err != nil {
		t.Fatal(err)
	}
	visitor := newTab(t, newBrowser(t), "visitor")
	agent := newTab(t, newBrowser(t), "agent")
	recordMedia(visitor)

	startChat(visitor, env.URL, "I'd rather start without my camera.")
	loginDesk(agent, env.URL, demo.AnaEmail)
	setAvailable(agent, "video")

	visitor.waitFor("the reassurance message is shown", visible(byTestID(widgetDoc, "camera-reassurance")))
	if text := eval[string](visitor, byTestID(widgetDoc, "camera-reassurance")+".textContent"); !strings.Contains(text, "camera") {
		t.Fatalf("reassurance %q", text)
	}
	visitor.click(byTestID(widgetDoc, "join-video"))
	visitor.waitFor("the microphone is ready", usable(byTestID(widgetDoc, "join-now")))
	visitor.waitFor("the lobby's camera control shows off", byTestID(widgetDoc, "lobby-camera")+".getAttribute('aria-pressed') === 'false'")
	visitor.click(byTestID(widgetDoc, "join-now"))
	agent.click(byTestID("document", "accept-call"))

	advancing(visitor, "the visitor sees Ana", widgetDoc)
	agent.waitFor("Ana sees the camera-off placeholder", visible(byTestID("document", "remote-camera-off")))
	if n := eval[int](agent, framesDecoded("document")); n != 0 {
		t.Fatalf("Ana decoded %d frames while the visitor's camera is off", n)
	}
	if all, video := visitorMediaRequests(visitor); all == 0 || video != 0 {
		t.Fatalf("before the visitor turns the camera on: %d getUserMedia calls, %d for the camera", all, video)
	}

	toggle := byTestID(widgetDoc, "toggle-camera")
	visitor.waitFor("the camera control shows off", toggle+".getAttribute('aria-pressed') === 'false'")
	visitor.click(toggle)
	visitor.waitFor("the camera control shows on", toggle+".getAttribute('aria-pressed') === 'true'")
	agent.waitFor("the placeholder goes", "!("+visible(byTestID("document", "remote-camera-off"))+")")
	advancing(agent, "Ana sees the visitor", "document")
	if _, video := visitorMediaRequests(visitor); video != 1 {
		t.Fatalf("the camera was asked for %d times, want once (the visitor's click)", video)
	}
}
