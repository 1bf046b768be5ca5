package web_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestMetricsLabelsAreBounded: anonymous requests with made-up methods and
// paths do not add label values to /metrics.
func TestMetricsLabelsAreBounded(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db, nil)
		for i := range 40 {
			do(t, fmt.Sprintf("BREW%d", i), p.srv.URL+"/healthz", "", "")
			do(t, "GET", p.srv.URL+fmt.Sprintf("/no/such/page/%d", i), "", "")
			do(t, fmt.Sprintf("X%d", i), p.srv.URL+fmt.Sprintf("/api/v1/x%d", i), "", "")
		}
		_, body := do(t, "GET", p.srv.URL+"/metrics", "", "")
		methods := map[string]bool{}
		for _, m := range regexp.MustCompile(`portal_http_requests_total\{[^}]*method="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			methods[m[1]] = true
		}
		allowed := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other"}
		for m := range methods {
			if !slices.Contains(allowed, m) {
				t.Errorf("method label %q is not from the fixed set", m)
			}
		}
		if !methods["other"] {
			t.Errorf("made-up methods are not counted as \"other\": %v", methods)
		}
		for _, r := range regexp.MustCompile(`route="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			if regexp.MustCompile(`/no/such|/x\d`).MatchString(r[1]) {
				t.Errorf("route label %q comes from the request's path", r[1])
			}
		}
	})
}
