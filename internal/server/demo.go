package server

import (
	"html/template"
	"net/http"
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
  <div class="products">
    <div class="product"><h2>Oak table</h2><p>Solid oak, seats six.</p><p class="price">€ 890</p></div>
    <div class="product"><h2>Walnut chair</h2><p>Hand-finished, with a woven seat.</p><p class="price">€ 240</p></div>
    <div class="product"><h2>Linen sofa</h2><p>Three seats, removable covers.</p><p class="price">€ 1,450</p></div>
  </div>
</main>
<script src="{{.Origin}}/widget.js" data-site="{{.SiteID}}" async></script>
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
	demoTemplate.Execute(w, map[string]string{"Origin": s.ownOrigin(r), "SiteID": s.demoSite})
}
