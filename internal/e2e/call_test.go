package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/demo"
)

// framesDecoded is an expression giving the number of frames a document's remote-video has decoded.
func framesDecoded(doc string) string {
	return fmt.Sprintf(`(() => { const v = %s; return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0; })()`,
		byTestID(doc, "remote-video"))
}

// advancing waits until the remote video of doc decodes new frames, and returns the count it reached.
func advancing(b *tab, what, doc string) int {
	b.t.Helper()
	start := eval[int](b, framesDecoded(doc))
	b.waitFor(what, fmt.Sprintf("%s > %d + 10 && %s.videoWidth > 0", framesDecoded(doc), start, byTestID(doc, "remote-video")))
	return eval[int](b, framesDecoded(doc))
}

// frozen checks that the remote video of doc decodes no new frame for two seconds (after a second to settle).
func frozen(b *tab, what, doc string) {
	b.t.Helper()
	time.Sleep(time.Second)
	before := eval[int](b, framesDecoded(doc))
	time.Sleep(2 * time.Second)
	if after := eval[int](b, framesDecoded(doc)); after > before+1 {
		b.t.Fatalf("%s: %s: frames kept advancing (%d -> %d)", b.name, what, before, after)
	}
}

// A visitor on the demo shop joins video from the chat; Ana answers; media flows both ways; the camera and mic
// toggles reach Ana; minimizing keeps the call going; a hang-up leaves the chat open and video is not offered again.
func TestVideoCallFromTheWidget(t *testing.T) {
	env := apptest.Start(t, nil)
	// Two Chromium instances, each with its fake camera and microphone: the visitor's and Ana's.
	visitor := newTab(t, newBrowser(t), "visitor")
	agent := newTab(t, newBrowser(t), "agent")

	startChat(visitor, env.URL, "Could you show me the table by video?")
	loginDesk(agent, env.URL, demo.AnaEmail)
	setAvailable(agent, "video")

	// 1. The visitor joins from the chat: the lobby with a self-preview, then "Join now".
	visitor.click(byTestID(widgetDoc, "join-video"))
	visitor.waitFor("the lobby opens", visible(byTestID(widgetDoc, "video-lobby")))
	visitor.waitFor("the self-preview plays", byTestID(widgetDoc, "self-preview")+".videoWidth > 0")
	visitor.click(byTestID(widgetDoc, "join-now"))

	// 2. Ana's desk rings; she accepts.
	agent.click(byTestID("document", "accept-call"))

	// 3. Frames decoded advance on both sides, and both show the quality indicator on the high tier (loopback).
	advancing(visitor, "the visitor sees Ana", widgetDoc)
	advancing(agent, "Ana sees the visitor", "document")
	visitor.waitFor("the visitor's quality indicator says high",
		visible(byTestID(widgetDoc, "quality-indicator"))+" && "+byTestID(widgetDoc, "quality-indicator")+".dataset.tier === 'high'")
	agent.waitFor("Ana's quality indicator says high",
		visible(byTestID("document", "quality-indicator"))+" && "+byTestID("document", "quality-indicator")+".dataset.tier === 'high'")
	agent.waitFor("Ana can't transfer the conversation during its call", "!"+visible(byTestID("document", "transfer-conversation")))

	// 4. The visitor turns the camera off: Ana sees the placeholder and frames stop; back on, they resume.
	visitor.click(byTestID(widgetDoc, "toggle-camera"))
	visitor.waitFor("the camera toggle shows off", byTestID(widgetDoc, "toggle-camera")+".getAttribute('aria-pressed') !== null")
	agent.waitFor("Ana sees the camera-off placeholder", visible(byTestID("document", "remote-camera-off")))
	frozen(agent, "camera off", "document")
	visitor.click(byTestID(widgetDoc, "toggle-camera"))
	agent.waitFor("the placeholder goes", "!("+visible(byTestID("document", "remote-camera-off"))+")")
	advancing(agent, "frames resume after the camera is back", "document")

	// 5. The visitor mutes the mic: Ana sees it.
	visitor.click(byTestID(widgetDoc, "toggle-mic"))
	agent.waitFor("Ana sees the visitor muted", visible(byTestID("document", "remote-mic-off")))

	// 6. The visitor minimizes: the call badge stays on the site and Ana keeps receiving frames.
	visitor.click(byTestID(widgetDoc, "minimize"))
	visitor.waitFor("the call badge is shown", visible(byTestID(widgetRoot, "call-badge")))
	advancing(agent, "frames keep coming while the widget is minimized", "document")
	visitor.click(byTestID(widgetRoot, "call-badge"))
	visitor.waitFor("the call window is back", visible(byTestID(widgetDoc, "hangup")))

	// 7. The visitor hangs up: both transcripts say so, the chat goes on, and video is no longer offered.
	visitor.click(byTestID(widgetDoc, "hangup"))
	ended := `[...%s.querySelectorAll('[data-testid="message"][data-author="system"]')].some(m => /video call ended/i.test(m.innerText))`
	visitor.waitFor("the visitor's transcript shows the end of the call", fmt.Sprintf(ended, widgetDoc))
	agent.waitFor("Ana's transcript shows the end of the call", fmt.Sprintf(ended, "document"))
	agent.waitFor("Ana sees the call-quality card", visible(byTestID("document", "call-quality")))
	agent.waitFor("Ana may transfer the conversation again", visible(byTestID("document", "transfer-conversation")))
	const after = "Thanks, that helped!"
	visitor.typeInto(byTestID(widgetDoc, "message-input"), after)
	visitor.click(byTestID(widgetDoc, "send-message"))
	agent.waitFor("the message after the call arrives", hasMessage("document", "visitor", after))
	visitor.waitFor("join-video is no longer offered", "!("+visible(byTestID(widgetDoc, "join-video"))+")")
}
