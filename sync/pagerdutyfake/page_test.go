package pagerdutyfake_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/sync/pagerdutyfake"
)

var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func post(t *testing.T, rawURL string, form url.Values, header http.Header) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := noFollow.Do(req)
	mustNil(t, err)
	resp.Body.Close()
	return resp
}

func pageBody(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/")
	mustNil(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %s", resp.Status)
	}
	return string(b)
}

func TestPagePutsOnCallAndEndsTheShift(t *testing.T) {
	s, _, clk, base := startFake(t)
	s.AddUser(pagerdutyfake.User{Name: "<b>Dee</b>", Email: "dee@example.com"})
	sc := s.AddSchedule(pagerdutyfake.Schedule{Name: "Primary"})
	if body := pageBody(t, base); !strings.Contains(body, "Nobody is on call") || strings.Contains(body, "<b>Dee") {
		t.Errorf("page before: the schedule is not empty or the name is not escaped")
	}

	resp := post(t, base+"/admin/oncall", url.Values{"schedule": {sc}, "email": {"dee@example.com"}, "hours": {"2"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("put on call: %s", resp.Status)
	}
	got := s.OnCallAt(sc, clk.Now())
	if len(got) != 1 || got[0].UserEmail != "dee@example.com" || !got[0].End.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("on call after the form: %+v", got)
	}
	if body := pageBody(t, base); !strings.Contains(body, "dee@example.com") || !strings.Contains(body, "2026-03-02T11:00:00Z") {
		t.Errorf("the page does not show the shift")
	}

	cross := http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}}
	if resp := post(t, base+"/admin/end-shift", url.Values{"schedule": {sc}, "email": {"dee@example.com"}}, cross); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin post: %s, want 403", resp.Status)
	}
	if len(s.OnCallAt(sc, clk.Now())) != 1 {
		t.Fatal("a cross-origin post ended the shift")
	}
	clk.Advance(30 * time.Minute)
	if resp := post(t, base+"/admin/end-shift", url.Values{"schedule": {sc}, "email": {"dee@example.com"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("end shift: %s", resp.Status)
	}
	if got := s.OnCallAt(sc, clk.Now()); len(got) != 0 {
		t.Errorf("on call after ending the shift: %+v", got)
	}
	if resp := post(t, base+"/admin/oncall", url.Values{"schedule": {sc}, "email": {"dee@example.com"}, "hours": {"0"}}, nil); resp.StatusCode != 400 {
		t.Errorf("zero hours: %s", resp.Status)
	}
}
