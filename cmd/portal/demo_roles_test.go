package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeAddr is a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getBody GETs url (with a bearer token when given): status, content type, body.
func getBody(t *testing.T, url, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

// The demo says who plays which role, prints a working CLI token per
// active person, pins the fakes' ports when asked, styles the fakes' pages
// like the portal, and `portal token create --data DIR` mints on its
// database (and refuses a directory without one).
func TestDemoExplainsItself(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	data := t.TempDir()
	oktaAddr, tailnetAddr := freeAddr(t), freeAddr(t)
	cmd := exec.CommandContext(ctx, portalBin, "demo", "--addr", "127.0.0.1:0", "--data", data, "--okta-addr", oktaAddr, "--tailnet-addr", tailnetAddr)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the demo URL: %v", err)
	}
	base := strings.TrimSpace(line)
	// The banner is written before the URL; read it up to its last line,
	// then keep draining the logs.
	var banner strings.Builder
	errs := bufio.NewReader(stderr)
	for !strings.Contains(banner.String(), "Press Ctrl-C to stop.") {
		l, err := errs.ReadString('\n')
		banner.WriteString(l)
		if err != nil {
			t.Fatalf("reading the banner: %v\n%s", err, banner.String())
		}
	}
	go io.Copy(io.Discard, errs) //nolint:errcheck // logs

	text := banner.String()
	for _, want := range []string{"http://" + oktaAddr, "http://" + tailnetAddr, "approver of prod-db", "on-call", "admin", "employee"} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q:\n%s", want, text)
		}
	}
	tokens := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(\S+@example\.com)\s+ACCESS_URL=(\S+) ACCESS_TOKEN=(pat_\S+) access ls$`).FindAllStringSubmatch(text, -1) {
		if m[2] != base {
			t.Errorf("token line for %s names %s, want %s", m[1], m[2], base)
		}
		tokens[m[1]] = m[3]
	}
	if len(tokens) != 5 || tokens["frank@example.com"] != "" {
		t.Fatalf("tokens for %d people (want the 5 active ones):\n%s", len(tokens), text)
	}
	waitFor(t, 30*time.Second, func() bool {
		code, _, _ := getBody(t, base+"/readyz", "")
		return code == 200
	})
	whoami := func(token string) string {
		code, _, body := getBody(t, base+"/api/v1/me", token)
		var me struct{ Email string }
		json.Unmarshal([]byte(body), &me) //nolint:errcheck // checked below
		if code != 200 {
			return ""
		}
		return me.Email
	}
	if got := whoami(tokens["bob@example.com"]); got != "bob@example.com" {
		t.Errorf("bob's printed token is %q on /api/v1/me", got)
	}

	// The simulated Okta's user picker, where sign-in leads, names the roles.
	code, _, picker := getBody(t, base+"/login?next=/", "")
	if code != 200 || !strings.Contains(picker, `<span class="title">approver of prod-db (Security)</span>`) {
		t.Errorf("the sign-in picker (%d) does not name carol's role:\n%s", code, picker)
	}

	// The fakes' pages wear the portal's style sheet.
	for _, fake := range []string{"http://" + oktaAddr, "http://" + tailnetAddr} {
		code, _, page := getBody(t, fake+"/", "")
		cssCode, ctype, css := getBody(t, fake+"/portal.css", "")
		if code != 200 || !strings.Contains(page, `<link rel="stylesheet" href="/portal.css">`) || !strings.Contains(page, `<header class="top">`) ||
			cssCode != 200 || !strings.HasPrefix(ctype, "text/css") || !strings.Contains(css, "prefers-color-scheme: dark") {
			t.Errorf("%s: page %d, style sheet %d %q", fake, code, cssCode, ctype)
		}
	}

	// portal token create --data DIR mints on the demo's database.
	r := portal(t, nil, "token", "create", "--data", data, "--user", "carol@example.com")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || whoami(lines[len(lines)-1]) != "carol@example.com" {
		t.Errorf("token create --data: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	empty := t.TempDir()
	r = portal(t, nil, "token", "create", "--data", empty, "--user", "carol@example.com")
	if _, err := os.Stat(filepath.Join(empty, "portal.db")); r.code != 1 || !strings.Contains(r.stderr, "no portal database in") || err == nil {
		t.Errorf("token create --data on an empty directory: exit %d, stderr %q, created a database: %v", r.code, r.stderr, err == nil)
	}
	// Without DATABASE_URL or --data, no ./portal.db appears either.
	r = portal(t, nil, "token", "create", "--user", "carol@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "DATABASE_URL is not set") {
		t.Errorf("token create without a database: exit %d, stderr %q", r.code, r.stderr)
	}
}
