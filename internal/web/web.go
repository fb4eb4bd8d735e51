// Package web holds Parley's browser code: the widget loader and chatbox, the agent desk and the admin app. The
// files are plain ES modules embedded in the binary, so `go run` serves them with no build step.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// Static returns the static files, rooted so that "widget/loader.js" names static/widget/loader.js.
func Static() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded at build time; it cannot be missing
	}
	return sub
}
