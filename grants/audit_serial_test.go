package grants_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// auditChildEnv names the database a child process of
// TestAuditAppendsSerialiseAcrossProcesses appends to.
const auditChildEnv = "PORTAL_AUDIT_APPEND_CHILD"

// appendMany appends n events from many goroutines, each outside any
// transaction, as a handler and the reconciler do at the same moment.
func appendMany(t testing.TB, db *database.DB, who string, n int) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- grants.AppendAudit(context.Background(), db.DB, grants.Event{
				At: time.Now(), Actor: who, Action: "test.append", Target: strconv.Itoa(i),
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("%s: appending: %v", who, err)
		}
	}
}

// TestAuditAppendsSerialiseAcrossProcesses: appends from many goroutines
// of two processes leave one unbroken chain: no two events share a
// previous hash.
func TestAuditAppendsSerialiseAcrossProcesses(t *testing.T) {
	if url := os.Getenv(auditChildEnv); url != "" {
		db, err := database.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		appendMany(t, db, "child", 60)
		return
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		child := exec.Command(os.Args[0], "-test.run=^TestAuditAppendsSerialiseAcrossProcesses$", "-test.count=1")
		child.Env = append(os.Environ(), auditChildEnv+"="+db.URL)
		out := make(chan error, 1)
		var childOut []byte
		go func() {
			var err error
			childOut, err = child.CombinedOutput()
			out <- err
		}()
		appendMany(t, db, "parent", 60)
		if err := <-out; err != nil {
			t.Fatalf("the other process: %v\n%s", err, childOut)
		}
		var shared []struct {
			PrevHash string
			N        int
		}
		db.Raw("SELECT prev_hash, COUNT(*) AS n FROM audit_events GROUP BY prev_hash HAVING COUNT(*) > 1").Scan(&shared)
		if len(shared) > 0 {
			t.Errorf("%d previous hashes are shared by several events, e.g. %s by %d", len(shared), shared[0].PrevHash, shared[0].N)
		}
		n, err := grants.VerifyAudit(t.Context(), db.DB)
		if err != nil {
			t.Errorf("chain broken after concurrent appends: %v", err)
		}
		if n < 120 {
			t.Errorf("%d events in the chain, want at least 120", n)
		}
	})
}
