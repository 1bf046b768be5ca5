package tailnet

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/accessportal/portal/sync/tailnetfake"
)

func asMissing(err error, target **MissingScopeError) bool { return errors.As(err, target) }

func TestReadConfigurationLogPagesByTime(t *testing.T) {
	srv, base, clock := fakeTailnet(t, func(o *tailnetfake.Options) {
		o.Policy = []byte(`{"groups": {"group:eng": []}}`)
	}, []string{"logs:configuration:read"}, []string{"policy_file"})
	since := clock.Now()
	var texts []string
	for i := range 5 {
		text := `{"groups": {"group:eng": ["u` + string(rune('a'+i)) + `@example.com"]}}`
		texts = append(texts, text)
		if err := srv.ReplacePolicy([]byte(text), "gitops@example.com"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Hour)
	}
	until := clock.Now()
	ctx := context.Background()
	c := oauthClient(t, base, 0)
	calls := srv.Calls()[tailnetfake.RouteConfigLog]

	got, err := ReadConfigurationLog(ctx, c, since, until, 24*time.Hour)
	if err != nil {
		t.Fatalf("ReadConfigurationLog: %v", err)
	}
	if len(got) != 5 {
		t.Fatalf("%d entries, want 5", len(got))
	}
	for i, e := range got {
		if e.Action != "UPDATE" || e.Target.Property != "ACL" || e.Actor.LoginName != "gitops@example.com" || !strings.Contains(string(e.New), strings.ReplaceAll(texts[i], `"`, `\"`)) {
			t.Errorf("entry %d = %+v new=%s", i, e, e.New)
		}
		if i > 0 && e.EventTime.Before(got[i-1].EventTime) {
			t.Errorf("entries out of order")
		}
	}
	if n := srv.Calls()[tailnetfake.RouteConfigLog] - calls; n != 3 { // 50 hours in 24-hour windows
		t.Errorf("%d requests, want 3", n)
	}

	// The period is half open: an event at until is not in it.
	part, err := ReadConfigurationLog(ctx, c, since, since.Add(20*time.Hour), 0)
	if err != nil || len(part) != 2 {
		t.Errorf("[since, since+20h) = %d entries, %v; want 2", len(part), err)
	}

	_, err = ReadConfigurationLog(ctx, oauthClient(t, base, 1), since, until, 0)
	var missing *MissingScopeError
	if !asMissing(err, &missing) || missing.Scope != "logs:configuration:read" || !strings.Contains(missing.Message, "enough permissions") {
		t.Errorf("without the scope: %v", err)
	}
	if _, err := ReadConfigurationLog(ctx, keyClient(t, base), since, until, time.Hour); err != nil {
		t.Errorf("with an API key: %v", err)
	}
}

func TestEachConfigLogEntryStopsAtTheCallbacksError(t *testing.T) {
	srv, base, clock := fakeTailnet(t, nil)
	srv.SetPolicy([]byte(`{"groups": {"group:a": []}}`))
	srv.SetPolicy([]byte(`{"groups": {"group:b": []}}`))
	stop := errors.New("stop")
	n := 0
	err := EachConfigLogEntry(context.Background(), keyClient(t, base), clock.Now().Add(-time.Hour), clock.Now().Add(time.Hour), 0, func(ConfigLogEntry) error {
		n++
		return stop
	})
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("err = %v after %d entries", err, n)
	}
}
