package server

import (
	"html/template"
	"net/http"

	"github.com/parley/parley/internal/chat"
	"github.com/parley/parley/internal/demo"
)

// demoTemplate is the demo shop that `parley demo` serves at /demo/: an ordinary page carrying the install snippet,
// as a customer's site would.
var demoTemplate = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Shop: Parley</title>
<style>
  body { font-family: Georgia, serif; margin: 0; color: #222; background: #faf7f2; }
  header { background: #2d3a2e; color: #fff; padding: 1.2rem 2rem; }
  main { max-width: 900px; margin: 2rem auto; padding: 0 1rem; }
  .products { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 1rem; }
  .product { background: #fff; border: 1px solid #e5dfd3; padding: 1rem; border-radius: 6px; }
  .price { font-weight: bold; color: #2d3a2e; }
  button { font: inherit; }
</style>
</head>
<body>
<header><h1>Demo Shop</h1><p>Handmade furniture since 1987</p></header>
<main>
  <p>This is a demo website with Parley's chat widget on it. Open the chat button at the bottom right to talk to
  an agent, and log in to the <a href="/desk/">agent desk</a> in another window to answer.</p>
  {{if .CustomerEmail}}<p data-testid="demo-signed-in">Signed in as {{.CustomerName}} ({{.CustomerEmail}}): the agents
  see who you are. <a href="/demo/">Sign out</a></p>
  {{else}}<p><a href="/demo/?customer=claire" data-testid="demo-sign-in">Sign in as a demo customer</a>: the shop then
  tells Parley who you are, signed with the site's identity secret.</p>{{end}}
  <div class="products">
    <div class="product"><h2>Oak table</h2><p>Solid oak, seats six.</p><p class="price">€ 890</p></div>
    <div class="product"><h2>Walnut chair</h2><p>Hand-finished, with a woven seat.</p><p class="price">€ 240</p></div>
    <div class="product"><h2>Linen sofa</h2><p>Three seats, removable covers.</p><p class="price">€ 1,450</p></div>
  </div>
</main>
<script src="{{.Origin}}/widget.js" data-site="{{.SiteID}}"{{if .CustomerEmail}} data-visitor-email="{{.CustomerEmail}}" data-visitor-name="{{.CustomerName}}" data-visitor-hash="{{.CustomerHash}}"{{end}} async></script>
</body>
</html>
`))

func (s *Server) demoPage(w http.ResponseWriter, r *http.Request) {
	if s.demoSite == "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	data := map[string]string{"Origin": s.ownOrigin(r), "SiteID": s.demoSite}
	// ?customer=claire: the shop's page as its signed-in customer sees it, the way a site identifies its visitors.
	if r.URL.Query().Get("customer") == "claire" {
		site, err := s.store.SiteByPublicID(r.Context(), s.demoSite)
		if err == nil {
			var secret string
			if secret, err = s.store.IdentitySecret(r.Context(), site.ID); err == nil {
				data["CustomerName"], data["CustomerEmail"] = demo.CustomerName, demo.CustomerEmail
				data["CustomerHash"] = chat.SignIdentity(secret, demo.CustomerEmail)
			}
		}
		if err != nil {
			s.internalError(w, r, err)
			return
		}
	}
	demoTemplate.Execute(w, data)
}

// demoBotTemplate is the second demo shop, at /demo/bot/: its chat starts with the demo's scenario bot, which can
// hand the visitor over to an agent by chat or straight into video.
var demoBotTemplate = template.Must(template.New("demo-bot").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Bot Shop: Parley</title>
<style>
  body { font-family: Georgia, serif; margin: 0; color: #222; background: #f3f6fa; }
  header { background: #23395b; color: #fff; padding: 1.2rem 2rem; }
  main { max-width: 900px; margin: 2rem auto; padding: 0 1rem; }
  .products { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 1rem; }
  .product { background: #fff; border: 1px solid #d8e0ea; padding: 1rem; border-radius: 6px; }
  .price { font-weight: bold; color: #23395b; }
</style>
</head>
<body>
<header><h1>Demo Bot Shop</h1><p>Bicycles, fitted to you</p></header>
<main>
  <p>This demo website's chat starts with a bot. Open the chat button at the bottom right: the bot greets you and
  offers choices. "Talk to an expert by video" hands you over to an agent straight into a video call; "Ask a
  question" hands you over by chat. Log in to the <a href="/desk/">agent desk</a> in another window to answer.
  The <a href="/demo/">first demo shop</a> has no bot.</p>
  <div class="products">
    <div class="product"><h2>City bike</h2><p>Steel frame, hub gears.</p><p class="price">€ 690</p></div>
    <div class="product"><h2>Gravel bike</h2><p>Carbon fork, wide tyres.</p><p class="price">€ 1,390</p></div>
    <div class="product"><h2>Cargo bike</h2><p>Electric assist, two children.</p><p class="price">€ 3,200</p></div>
  </div>
</main>
<script src="{{.Origin}}/widget.js" data-site="{{.SiteID}}" async></script>
</body>
</html>
`))

// demoBotPage serves the bot shop of `parley demo` (404 outside the demo).
func (s *Server) demoBotPage(w http.ResponseWriter, r *http.Request) {
	if s.demoSite == "" {
		http.NotFound(w, r)
		return
	}
	site, err := s.store.SiteByName(r.Context(), demo.BotSiteName)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	demoBotTemplate.Execute(w, map[string]string{"Origin": s.ownOrigin(r), "SiteID": site.PublicID})
}
