package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestUnreachablePortal(t *testing.T) {
	url := closedURL(t)
	env := []string{"ACCESS_URL=" + url + "/", "ACCESS_TOKEN=pat_whatever"}
	for _, args := range [][]string{
		{"whoami"}, {"resources"}, {"ls"}, {"--json", "ls"},
		{"request", "prod-db", "--for", "1h", "--wait"}, {"approve", "1"}, {"deny", "1"}, {"cancel", "1"}, {"revoke", "1"},
		{"inbox"}, {"approve", "1", "--for", "30m"}, {"extend", "1", "--for", "1h", "--wait"},
	} {
		failsWith(t, env, 1, []string{"access: cannot reach " + url + ": connection refused\n"}, args...)
	}
	failsWith(t, []string{"ACCESS_URL=http://no-such-host.invalid", "ACCESS_TOKEN=pat_x"}, 1,
		[]string{"access: cannot reach http://no-such-host.invalid: "}, "whoami")
}

func TestTokensRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		expired, _, err := grants.NewStore(db).CreateToken(context.Background(), alice, "old", time.Minute, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, token := range []string{"pat_unknown", expired, "not-a-token"} {
			env := []string{"ACCESS_URL=" + p.url, "ACCESS_TOKEN=" + token}
			for _, args := range [][]string{{"whoami"}, {"ls", "--json"}, {"request", "staging", "--wait"}} {
				failsWith(t, env, 1, []string{
					`access: the token was refused (401): invalid, expired or disabled API token — check ACCESS_TOKEN or run "access login"`,
				}, args...)
			}
		}
		// A token of someone Okta suspended is refused with the portal's reason.
		p.addUser("u-frank", "frank@example.com", grants.StatusSuspended, "Engineering")
		frank := p.token("frank@example.com", time.Hour)
		failsWith(t, []string{"ACCESS_URL=" + p.url, "ACCESS_TOKEN=" + frank}, 1,
			[]string{"access: refused (403): frank@example.com is SUSPENDED in Okta"}, "whoami")
	})
}

func TestNotConfigured(t *testing.T) {
	failsWith(t, nil, 1, []string{`access: no portal configured: run "access login --url URL" or set ACCESS_URL`}, "whoami")
	failsWith(t, []string{"ACCESS_URL=http://127.0.0.1:1"}, 1, []string{`access: no API token: run "access login" or set ACCESS_TOKEN`}, "ls")
	failsWith(t, []string{"ACCESS_URL=ftp://example.com", "ACCESS_TOKEN=x"}, 1, []string{`access: ACCESS_URL: "ftp://example.com" is not an http:// or https:// URL`}, "ls")
}

func TestUsageErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"frobnicate"}, `access: unknown command "frobnicate"`},
			{[]string{"--bogus", "whoami"}, "access: flag provided but not defined: -bogus"},
			{[]string{"ls", "--bogus"}, "access ls: flag provided but not defined: -bogus"},
			{[]string{"whoami", "extra"}, `access whoami: unexpected argument "extra" (usage: access whoami)`},
			{[]string{"request"}, "access request: missing RESOURCE (usage: access request RESOURCE"},
			{[]string{"request", "--for", "2h"}, "access request: missing RESOURCE"},
			{[]string{"request", "prod-db", "--for", "soon", "--reason", "r"}, `access request: invalid value "soon" for flag -for: "soon" is not a duration like 90m or 2h`},
			{[]string{"request", "prod-db", "--for", "-1h", "--reason", "r"}, `"-1h" is not positive`},
			{[]string{"request", "prod-db", "--for", "0s"}, `"0s" is not positive`},
			{[]string{"request", "prod-db", "--wait", "--timeout", "forever"}, `invalid value "forever" for flag -timeout`},
			{[]string{"request", "prod-db", "--timeout", "1m"}, "access request: --timeout applies only with --wait"},
			{[]string{"request", "prod-db", "staging"}, `access request: unexpected argument "staging"`},
			{[]string{"request", "prod-db", "--for"}, "access request: flag needs an argument: -for"},
			{[]string{"approve"}, "access approve: missing REQUEST-ID"},
			{[]string{"deny", "1", "2"}, `access deny: unexpected argument "2"`},
			{[]string{"cancel"}, "access cancel: missing REQUEST-ID"},
			{[]string{"revoke"}, "access revoke: missing GRANT-ID"},
			{[]string{"revoke", ""}, "access revoke: GRANT-ID is empty"},
			{[]string{"--json=maybe", "ls"}, `access: invalid boolean value "maybe" for -json`},
			{[]string{"login", "--url", "example.com"}, `access login: --url: "example.com" is not an http:// or https:// URL`},
			{[]string{"approve", "abc"}, `access approve: REQUEST-ID must be a positive whole number, not "abc" (usage: access approve REQUEST-ID`},
			{[]string{"approve", "0", "--for", "1h"}, `REQUEST-ID must be a positive whole number, not "0"`},
			{[]string{"approve", "1", "--for", "soon"}, `invalid value "soon" for flag -for`},
			{[]string{"deny", "#12"}, `access deny: REQUEST-ID must be a positive whole number, not "#12"`},
			{[]string{"cancel", "--", "-3"}, `REQUEST-ID must be a positive whole number, not "-3"`},
			{[]string{"revoke", "grant-7"}, `access revoke: GRANT-ID must be a positive whole number, not "grant-7"`},
			{[]string{"extend", "x", "--for", "1h"}, `access extend: GRANT-ID must be a positive whole number, not "x"`},
			{[]string{"extend"}, "access extend: missing GRANT-ID"},
			{[]string{"extend", "1", "--timeout", "1m"}, "access extend: --timeout applies only with --wait"},
			{[]string{"inbox", "extra"}, `access inbox: unexpected argument "extra"`},
			{[]string{"deny", "1", "--for", "1h"}, "access deny: flag provided but not defined: -for"},
		}
		for _, c := range cases {
			failsWith(t, p.as(alice), 2, []string{c.want}, c.args...)
		}
		// Nothing reached the portal.
		var n int64
		db.Model(&grants.Request{}).Count(&n)
		if n != 0 {
			t.Errorf("usage errors created %d requests", n)
		}
		// No command at all: the help, on stdout.
		r := access(t, nil)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: access [--json] COMMAND") || !strings.Contains(r.stdout, "\n  inbox ") {
			t.Errorf("access without a command: %s", r)
		}
	})
}

func TestHelp(t *testing.T) {
	for _, cmd := range commands() {
		for _, args := range [][]string{{cmd.name, "--help"}, {cmd.name, "-h"}, {"help", cmd.name}, {"--json", cmd.name, "x", "--help"}} {
			r := access(t, nil, args...)
			if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: access "+cmd.name) || !strings.Contains(r.stdout, "\nflags:\n") || !strings.Contains(r.stdout, "\n  --json ") || strings.Contains(r.stdout, "(default true)") {
				t.Errorf("access %s: %s", strings.Join(args, " "), r)
			}
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := access(t, nil, args...)
		if r.code != 0 || r.stderr != "" || !strings.HasPrefix(r.stdout, "usage: access [--json] COMMAND") {
			t.Errorf("access %s: %s", strings.Join(args, " "), r)
		}
		for _, cmd := range commands() {
			if !strings.Contains(r.stdout, "\n  "+cmd.name+" ") {
				t.Errorf("access %s does not list %s:\n%s", args[0], cmd.name, r.stdout)
			}
		}
	}
	r := access(t, nil, "request", "--help")
	for _, flag := range []string{"--for DURATION", "--reason TEXT", "--wait", "--timeout DURATION", "(default 5m)"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("request --help lacks %q:\n%s", flag, r.stdout)
		}
	}
}

func TestLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		p := newTestPortal(t, db)
		cfgHome := t.TempDir()
		env := []string{"XDG_CONFIG_HOME=" + cfgHome}
		path := filepath.Join(cfgHome, "access", "config.json")

		// The token comes on stdin; it is checked before it is saved.
		r := accessIn(t, env, p.tokens[alice]+"\n", "login", "--url", p.url+"/")
		if r.code != 0 || r.stdout != "logged in to "+p.url+" as alice@example.com; saved to "+path+"\n" {
			t.Fatalf("login: %s", r)
		}
		checkConfigFile(t, path, p.url, p.tokens[alice])
		if st, err := os.Stat(filepath.Dir(path)); err != nil || st.Mode().Perm() != 0o700 {
			t.Errorf("config directory mode = %v (%v), want 0700", st.Mode().Perm(), err)
		}

		// Later commands use it.
		var who me
		okJSON(t, env, &who, "whoami")
		if who.Email != alice {
			t.Errorf("whoami after login = %+v", who)
		}
		ok(t, env, "request", "staging", "--for", "1h")
		if r := ok(t, env, "ls"); !strings.Contains(r.stdout, "staging") {
			t.Errorf("ls after login: %s", r)
		}

		// --token, with the stored URL; --json prints the API's /me.
		r = okJSON(t, env, &who, "login", "--token", p.tokens[bob])
		if who.Email != bob {
			t.Errorf("login --json = %s", r)
		}
		checkConfigFile(t, path, p.url, p.tokens[bob])

		// A refused token or an unreachable portal saves nothing.
		failsWith(t, env, 1, []string{"access: the token was refused (401): ", "create a new token"}, "login", "--token", "pat_nope")
		if r := accessIn(t, env, "pat_nope\n", "login"); r.code != 1 {
			t.Errorf("login with a bad token on stdin: %s", r)
		}
		failsWith(t, env, 1, []string{"access: cannot reach "}, "login", "--url", closedURL(t), "--token", p.tokens[alice])
		checkConfigFile(t, path, p.url, p.tokens[bob])

		// Usage: no token, no URL anywhere.
		failsWith(t, env, 2, []string{"access login: no token: give --token or type it on stdin"}, "login")
		failsWith(t, []string{"XDG_CONFIG_HOME=" + t.TempDir()}, 2, []string{"access login: --url is required the first time"}, "login", "--token", "x")

		// ACCESS_URL and ACCESS_TOKEN override the stored values.
		okJSON(t, append(env, "ACCESS_TOKEN="+p.tokens[carol]), &who, "whoami")
		if who.Email != carol {
			t.Errorf("ACCESS_TOKEN did not override the stored token: %+v", who)
		}
		closed := closedURL(t)
		failsWith(t, append(env, "ACCESS_URL="+closed, "ACCESS_TOKEN=pat_x"), 1, []string{"access: cannot reach " + closed}, "whoami")
		// The stored token is never sent to another portal.
		failsWith(t, append(env, "ACCESS_URL="+closed), 1, []string{
			"access: no API token for " + closed + " (the stored one is for " + p.url + `): set ACCESS_TOKEN or run "access login --url ` + closed + `"`,
		}, "whoami")
		// With both set, the stored file is not even read.
		if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		okJSON(t, append(env, "ACCESS_URL="+p.url, "ACCESS_TOKEN="+p.tokens[carol]), &who, "whoami")
		failsWith(t, env, 1, []string{"access: reading " + path + ": ", `(run "access login" again)`}, "whoami")

		// A stored token that stops working points at "access login".
		expired, _, err := grants.NewStore(db).CreateToken(context.Background(), alice, "old", time.Minute, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(map[string]string{"url": p.url, "token": expired})
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		failsWith(t, env, 1, []string{`access: the token was refused (401): invalid, expired or disabled API token — run "access login"`}, "whoami")

		// A file others can read still works, with a warning.
		ok(t, env, "login", "--token", p.tokens[alice])
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		r = ok(t, env, "whoami")
		if !strings.Contains(r.stderr, "is readable by others; run chmod 600") {
			t.Errorf("no warning about a readable config: %s", r)
		}
		// Logging in again makes it private again.
		ok(t, env, "login", "--token", p.tokens[alice])
		checkConfigFile(t, path, p.url, p.tokens[alice])
	})
}

func TestLoginWithoutXDGConfigHome(t *testing.T) {
	db := dbtest.SQLite(t)
	p := newTestPortal(t, db)
	home := t.TempDir()
	env := []string{"HOME=" + home, "XDG_CONFIG_HOME="}
	ok(t, env, "login", "--url", p.url, "--token", p.tokens[root])
	checkConfigFile(t, filepath.Join(home, ".config", "access", "config.json"), p.url, p.tokens[root])
	if r := ok(t, env, "whoami"); !strings.Contains(r.stdout, "admin   yes") {
		t.Errorf("whoami = %s", r)
	}
}

// checkConfigFile wants the stored configuration at path, mode 0600.
func checkConfigFile(t *testing.T, path, url, token string) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("config file: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode = %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	var cfg map[string]string
	if err := json.Unmarshal(data, &cfg); err != nil || cfg["url"] != url || cfg["token"] != token {
		t.Errorf("config file = %s (%v), want url %s and the token", data, err, url)
	}
}

// TestWhatGoesOnTheWire uses a stand-in server to see the request itself,
// and answers that the real portal never gives (HTML from a proxy).
func TestWhatGoesOnTheWire(t *testing.T) {
	type seen struct{ auth, agent, method, path, body string }
	got := make(chan seen, 10)
	var mu gosync.Mutex // guards the answer
	status, body, ctype := 200, `{"email":"x@example.com","name":"X","admin":false,"groups":[]}`, "application/json"
	answer := func(s int, b, ct string) {
		mu.Lock()
		defer mu.Unlock()
		status, body, ctype = s, b, ct
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Header.Get("Authorization"), r.Header.Get("User-Agent"), r.Method, r.URL.RequestURI(), string(b)}
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	env := []string{"ACCESS_URL=" + srv.URL, "ACCESS_TOKEN=pat_secret"}

	ok(t, env, "whoami")
	if s := <-got; s.auth != "Bearer pat_secret" || s.agent != "access-cli" || s.method != "GET" || s.path != "/api/v1/me" {
		t.Errorf("whoami sent %+v", s)
	}

	answer(200, `{"id":7,"resource":"prod-db","status":"pending","duration":"1h30m"}`, "application/json")
	ok(t, env, "request", "prod-db", "--for", "90m", "--reason", "why not")
	if s := <-got; s.method != "POST" || s.path != "/api/v1/requests" || s.body != `{"resource":"prod-db","duration":"90m","reason":"why not"}` {
		t.Errorf("request sent %+v", s)
	}
	ok(t, env, "request", "prod-db")
	if s := <-got; s.body != `{"resource":"prod-db","reason":""}` {
		t.Errorf("request without --for sent %s; the portal's default applies when duration is left out", s.body)
	}
	ok(t, env, "approve", "7", "--comment", "fine")
	if s := <-got; s.path != "/api/v1/requests/7/approve" || s.body != `{"comment":"fine"}` {
		t.Errorf("approve sent %+v", s)
	}
	ok(t, env, "revoke", "3")
	if s := <-got; s.path != "/api/v1/grants/3/revoke" || s.body != `{"reason":""}` {
		t.Errorf("revoke sent %+v", s)
	}

	// Not the portal: a web page where JSON was expected.
	answer(200, "<html><body>Welcome</body></html>", "text/html")
	failsWith(t, env, 1, []string{"answered OK (an HTML page) that is not JSON: is " + srv.URL + " the portal?"}, "whoami")
	<-got
	// A proxy in front of the portal failing.
	answer(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html")
	failsWith(t, env, 1, []string{"access: the portal failed (502): Bad Gateway (an HTML page)"}, "ls")
}
