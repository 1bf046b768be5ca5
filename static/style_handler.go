package static

import "net/http"

// StyleHandler serves the portal's style sheet (style.css) as it is, for
// the simulated Okta and tailnet pages of the demo, so that they look like
// the portal.
func StyleHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		css, err := FS.ReadFile("style.css")
		if err != nil {
			http.Error(w, "no style sheet", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(css) //nolint:errcheck // the browser went away
	})
}
