package oktafake

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func adminPost(t *testing.T, rawURL string, form url.Values, header http.Header) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("POST", rawURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestAdminPageShowsPeopleEscaped(t *testing.T) {
	s, base := startFake(t, Options{})
	g := s.AddGroup("Eng <core>", "")
	id := s.AddUser(User{Login: "mallory@example.com", FirstName: "<script>alert(1)</script>", LastName: "M"})
	if err := s.AddMember(g, id); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, base+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("admin page: %s", resp.Status)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the user's name is not escaped")
	}
	if !strings.Contains(body, "Eng &lt;core&gt;") || !strings.Contains(body, "ACTIVE") {
		t.Error("the page does not show the group or the status")
	}
	if strings.Contains(body, "<script") {
		t.Error("the admin page carries a script")
	}
}

func TestAdminPageChangesTheOrg(t *testing.T) {
	s, base := startFake(t, Options{})
	g := s.AddGroup("SRE", "")
	id := s.AddUser(User{Login: "dave@example.com"})

	steps := []struct {
		path   string
		form   url.Values
		status string
		member bool
	}{
		{"/admin/members", url.Values{"group": {g}, "user": {id}}, StatusActive, true},
		{"/admin/users/" + id + "/suspend", nil, StatusSuspended, true},
		{"/admin/users/" + id + "/unsuspend", nil, StatusActive, true},
		{"/admin/users/" + id + "/deactivate", nil, StatusDeprovisioned, true},
		{"/admin/users/" + id + "/activate", nil, StatusActive, true},
		{"/admin/users/" + id + "/lock_out", nil, StatusLockedOut, true},
		{"/admin/users/" + id + "/unlock", nil, StatusActive, true},
		{"/admin/users/" + id + "/expire_password", nil, StatusPasswordExpired, true},
		{"/admin/users/" + id + "/set_password", nil, StatusActive, true},
		{"/admin/users/" + id + "/reset_password", nil, StatusRecovery, true},
		{"/admin/users/" + id + "/reactivate", nil, StatusProvisioned, true},
		{"/admin/users/" + id + "/set_password", nil, StatusActive, true},
		{"/admin/groups/" + g + "/members/" + id + "/remove", nil, StatusActive, false},
	}
	for _, st := range steps {
		resp := adminPost(t, base+st.path, st.form, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("POST %s: %s", st.path, resp.Status)
		}
		u, _ := s.User(id)
		if u.Status != st.status || (len(u.Groups) == 1) != st.member {
			t.Errorf("after %s: %s, groups %v", st.path, u.Status, u.Groups)
		}
	}
	if resp := adminPost(t, base+"/admin/users/"+id+"/unsuspend", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unsuspending an active user: %s", resp.Status)
	}
	if resp := adminPost(t, base+"/admin/users/"+id+"/delete", nil, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("deleting an active user: %s", resp.Status)
	}
	if resp := adminPost(t, base+"/admin/users", url.Values{"login": {"new@example.com"}, "firstName": {"New"}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding a person: %s", resp.Status)
	}
	added, _ := s.User("new@example.com")
	staged := added.ID
	if added.Status != StatusStaged {
		t.Fatalf("a person added without activation is %s, want STAGED", added.Status)
	}
	page := getPage(t, base+"/")
	for _, want := range []string{"/admin/users/" + staged + "/activate", "/admin/users/" + id + "/lock_out", "/admin/users/" + id + "/reset_password"} {
		if !strings.Contains(page, want) {
			t.Errorf("admin page lacks the button %s", want)
		}
	}
	for _, st := range []struct{ action, status string }{
		{"activate", StatusProvisioned}, // no password yet: waits for the welcome flow
		{"set_password", StatusActive},
		{"deactivate", StatusDeprovisioned},
	} {
		if resp := adminPost(t, base+"/admin/users/"+staged+"/"+st.action, nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %s", st.action, resp.Status)
		}
		if u, _ := s.User(staged); u.Status != st.status {
			t.Errorf("after %s: %s, want %s", st.action, u.Status, st.status)
		}
	}
	if resp := adminPost(t, base+"/admin/users/"+staged+"/delete", nil, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("deleting a deactivated user: %s", resp.Status)
	}
	if _, ok := s.User(staged); ok {
		t.Error("deleted user still exists")
	}
}

func getPage(t *testing.T, rawURL string) string {
	t.Helper()
	resp, err := http.Get(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAdminPageRefusesCrossSiteForms(t *testing.T) {
	s, base := startFake(t, Options{})
	id := s.AddUser(User{Login: "erin@example.com"})
	resp := adminPost(t, base+"/admin/users/"+id+"/deactivate", nil, http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %s", resp.Status)
	}
	if u, _ := s.User(id); u.Status != StatusActive {
		t.Errorf("cross-site POST changed the status to %s", u.Status)
	}
}

func TestUnknownAPIRoutesAnswerOktaJSON(t *testing.T) {
	_, base := startFake(t, Options{})
	for path, want := range map[string]int{
		"/api/v1/nothing-here": http.StatusNotFound,
	} {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "SSWS "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !strings.Contains(string(body), `"errorCode":"E0000007"`) {
			t.Errorf("%s: %s %s", path, resp.Status, body)
		}
	}
	req, _ := http.NewRequest("PATCH", base+"/api/v1/users", nil)
	req.Header.Set("Authorization", "SSWS "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !strings.Contains(string(body), `"errorCode":"E0000022"`) {
		t.Errorf("PATCH /api/v1/users: %s %s", resp.Status, body)
	}
}
