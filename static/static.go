// Package static holds the portal's CSS, JavaScript and images, embedded.
package static

import "embed"

// FS holds every static asset.
//
//go:embed *.css *.js *.svg
var FS embed.FS
