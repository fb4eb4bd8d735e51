package e2e

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/parley/parley/internal/apptest"
	"github.com/parley/parley/internal/config"
	"github.com/parley/parley/internal/demo"
)

// pickFiles chooses files in a file input (jsPath), as a person does in the browser's file dialog. The input
// stays hidden behind its paperclip button: its change event does the rest.
func (b *tab) pickFiles(jsPath string, files ...string) {
	b.t.Helper()
	b.waitFor("the file input is there", jsPath)
	b.run("pick files", chromedp.SetUploadFiles(chromedp.JSPath(jsPath), files))
}

// writePicture writes a w×h PNG into dir and returns its path.
func writePicture(t *testing.T, dir, name string, w, h int) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: uint8(y * 4), B: 160, A: 255})
		}
	}
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

// attachmentImage is an expression true when doc shows, in a message by author, the picture called name, decoded
// at its size.
func attachmentImage(doc, author, name string, w int) string {
	return "[..." + doc + ".querySelectorAll('[data-testid=\"message\"][data-author=\"" + author + "\"] [data-testid=\"attachment\"][data-kind=\"image\"]')]" +
		".some(a => a.dataset.name === '" + name + "' && a.querySelector('[data-testid=\"attachment-image\"]').naturalWidth === " + strconv.Itoa(w) + ")"
}

// The visitor sends a photo of a broken chair; Ana sees it in her desk and answers with a file of her own. Each
// side shows the other's file, read with its own credentials; the photo is still there after a reload.
func TestFilesInTheChat(t *testing.T) {
	env := apptest.Start(t, nil)
	browser := newBrowser(t)
	visitor, ana := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")
	dir := t.TempDir()
	photo := writePicture(t, dir, "broken-leg.png", 48, 36)
	form := filepath.Join(dir, "return-form.txt")
	if err := os.WriteFile(form, []byte("Return form: order 4711, one oak chair."), 0o600); err != nil {
		t.Fatal(err)
	}

	chatWithAna(visitor, ana, env.URL, "My chair arrived with a broken leg")
	visitor.waitFor("the paperclip shows", visible(byTestID(widgetDoc, "attach-file")))
	visitor.pickFiles(byTestID(widgetDoc, "attach-input"), photo)
	visitor.waitFor("the visitor sees their photo", attachmentImage(widgetDoc, "visitor", "broken-leg.png", 48))

	ana.click(byTestID("document", "conversation-item"))
	ana.waitFor("Ana sees the visitor's photo", attachmentImage("document", "visitor", "broken-leg.png", 48))
	ana.pickFiles(byTestID("document", "attach-input"), form)
	file := widgetDoc + ".querySelector('[data-testid=\"message\"][data-author=\"agent\"] [data-testid=\"attachment\"][data-kind=\"file\"]')"
	visitor.waitFor("Ana's file reaches the visitor", file+" && "+file+".dataset.name === 'return-form.txt' && "+
		file+".innerText.includes('return-form.txt')")

	// Opening it reads it with the visitor's token: the link then holds the file's content.
	visitor.click(file + ".querySelector('[data-testid=\"attachment-download\"]')")
	link := file + ".querySelector('[data-testid=\"attachment-download\"]')"
	visitor.waitFor("the file is read", link+".href.startsWith('blob:')")
	if got := evalPromise[string](visitor, "fetch("+link+".href).then(r => r.text())"); got != "Return form: order 4711, one oak chair." {
		t.Fatalf("the file the visitor opened holds %q", got)
	}

	visitor.reload()
	visitor.waitFor("after a reload the photo is still shown", attachmentImage(widgetDoc, "visitor", "broken-leg.png", 48))
	ana.reload()
	ana.click(byTestID("document", "conversation-item"))
	ana.waitFor("and on the desk", attachmentImage("document", "visitor", "broken-leg.png", 48))
}

// A visitor's first message may be a file: it opens the conversation, which goes to Ana like any other. A file
// over the server's limit is not sent, and the widget says why.
func TestAFileOpensTheConversation(t *testing.T) {
	env := apptest.Start(t, func(c *config.Config) { c.Chat.MaxFileBytes = 64 << 10 })
	browser := newBrowser(t)
	visitor, ana := newTab(t, browser, "visitor"), newTab(t, browser, "Ana")
	dir := t.TempDir()
	photo := writePicture(t, dir, "receipt.png", 30, 40)
	big := filepath.Join(dir, "scan.pdf")
	if err := os.WriteFile(big, make([]byte, 100<<10), 0o600); err != nil {
		t.Fatal(err)
	}

	loginDesk(ana, env.URL, demo.AnaEmail)
	visitor.navigate(env.URL + "/demo/")
	visitor.click(byTestID(widgetRoot, "launcher"))
	visitor.waitFor("the paperclip shows", visible(byTestID(widgetDoc, "attach-file")))
	visitor.pickFiles(byTestID(widgetDoc, "attach-input"), big)
	notice := widgetDoc + ".querySelector('.chatbox__notice')"
	visitor.waitFor("the widget says the file is too large", visible(notice)+" && "+notice+".innerText.includes('scan.pdf is too large')")

	visitor.pickFiles(byTestID(widgetDoc, "attach-input"), photo)
	visitor.waitFor("Ana takes the conversation the file opened", hasMessage(widgetDoc, "system", "Ana joined"))
	ana.click(byTestID("document", "conversation-item"))
	ana.waitFor("Ana sees the receipt", attachmentImage("document", "visitor", "receipt.png", 30))
	if n := eval[int](ana, "document.querySelectorAll('[data-testid=\"attachment\"]').length"); n != 1 {
		t.Fatalf("Ana's desk shows %d files, want the receipt only", n)
	}
}
