package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	pagePersonRE = regexp.MustCompile(`<a href="/\?as=(U[0-9A-F]+)"[^>]*>(\w+)</a>`)
	approveRE    = regexp.MustCompile(`name="channel" value="([^"]+)"><input type="hidden" name="ts" value="([^"]+)"><input type="hidden" name="action" value="approve"`)
	viewRE       = regexp.MustCompile(`name="view" value="([^"]+)"`)
)

// slackPage is the simulated Slack workspace's page, driven like a browser
// with forms.
type slackPage struct {
	t    *testing.T
	base string
	ids  map[string]string // handle → user id
}

func (p slackPage) get(as string) string {
	res, err := http.Get(p.base + "/?as=" + p.ids[as])
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func (p slackPage) post(path, as string, form url.Values) {
	form.Set("as", p.ids[as])
	res, err := http.PostForm(p.base+path, form)
	if err != nil {
		p.t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		p.t.Fatalf("POST %s as %s: %d", path, as, res.StatusCode)
	}
}

// waitPage waits until as's page matches cond and returns it.
func (p slackPage) waitPage(as string, cond func(string) bool) string {
	p.t.Helper()
	var page string
	waitFor(p.t, 30*time.Second, func() bool { page = p.get(as); return cond(page) })
	return page
}

func TestDemoFlowFromTheSimulatedSlackPage(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, portalBin, "demo", "--addr", "127.0.0.1:0", "--data", t.TempDir())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		cmd.Wait()
	}()
	banner := bufio.NewScanner(stderr)
	var slackURL string
	for slackURL == "" && banner.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(banner.Text()), "simulated Slack:"); ok {
			slackURL = strings.Fields(rest)[0]
		}
	}
	if slackURL == "" {
		t.Fatal("the demo banner names no simulated Slack")
	}
	go io.Copy(io.Discard, stderr)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the demo URL: %v", err)
	}
	base := strings.TrimSpace(line)
	waitFor(t, 30*time.Second, func() bool {
		res, err := http.Get(base + "/readyz")
		if err == nil {
			res.Body.Close()
		}
		return err == nil && res.StatusCode == http.StatusOK
	})

	p := slackPage{t: t, base: slackURL, ids: map[string]string{}}
	for _, m := range pagePersonRE.FindAllStringSubmatch(p.get(""), -1) {
		p.ids[m[2]] = m[1]
	}
	if p.ids["bob"] == "" || p.ids["carol"] == "" {
		t.Fatalf("people on the page: %v", p.ids)
	}

	// Bob asks from the command box; Carol approves from the channel for 30m.
	p.post("/ui/command", "bob", url.Values{"text": {"/access prod-db 1h demo from Slack"}})
	if page := p.get("bob"); !strings.Contains(page, "Request 1 for prod-db (1h) is pending") {
		t.Fatalf("bob's page after the command:\n%s", page)
	}
	page := p.waitPage("carol", approveRE.MatchString)
	m := approveRE.FindStringSubmatch(page)
	p.post("/ui/click", "carol", url.Values{"channel": {m[1]}, "ts": {m[2]}, "action": {"approve"}})
	page = p.get("carol")
	v := viewRE.FindStringSubmatch(page)
	if v == nil || !strings.Contains(page, "Approve access") {
		t.Fatalf("no approve modal on carol's page:\n%s", page)
	}
	p.post("/ui/submit", "carol", url.Values{"view": {v[1]}, "input.duration": {"30m"}, "input.comment": {"go ahead"}})

	// The channel message says who approved; Bob hears it and that it is live.
	p.waitPage("carol", func(s string) bool {
		return strings.Contains(s, "Approved by @carol for 30m") && !approveRE.MatchString(s)
	})
	p.waitPage("bob", func(s string) bool {
		return strings.Contains(s, "Your request 1 for <code>prod-db</code>") && strings.Contains(s, "is live in the tailnet")
	})
}
