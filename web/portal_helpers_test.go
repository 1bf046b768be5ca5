package web_test

import (
	"net/http/httptest"
	"testing"

	"github.com/accessportal/portal/web"
)

// servePortal builds the portal with opts and serves it over HTTP: the one
// way the tests start a whole portal. The server's URL is the portal's
// BaseURL unless opts names one (sign-in redirects need it before the
// portal is built); the
// server closes when the test ends.
func servePortal(t testing.TB, opts web.Options) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	ts.Start()
	t.Cleanup(ts.Close)
	if opts.BaseURL == "" {
		opts.BaseURL = ts.URL
	}
	s, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = s.Handler()
	return ts
}
