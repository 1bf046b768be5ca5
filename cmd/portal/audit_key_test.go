package main

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database/dbtest"
)

// TestAuditKeyedChain: with PORTAL_AUDIT_KEY the audit chain is an HMAC
// chain. `portal audit verify` says which chain it checked; someone with
// write access to the database alone who edits an event and recomputes
// every plain hash after it is caught; the key cannot be put on a chain
// silently (rekey checks the plain chain first, once).
func TestAuditKeyedChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *dbDB) {
		dbURL := dbURLOf(t, db)
		raw := make([]byte, 32)
		rand.Read(raw)
		plain := []string{"DATABASE_URL=" + dbURL}
		keyed := append(plain, "PORTAL_AUDIT_KEY="+base64.StdEncoding.EncodeToString(raw))
		mint := func(env []string, i int) result {
			return portal(t, env, "token", "create", "--user", fmt.Sprintf("u%d@example.com", i))
		}
		if r := mint(plain, 0); r.code != 0 {
			t.Fatal(r.stderr)
		}
		if r := portal(t, plain, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "chain plain") {
			t.Fatalf("plain verify: exit %d %q %q", r.code, r.stdout, r.stderr)
		}
		// The key is not put on a plain chain behind anyone's back.
		if r := mint(keyed, 1); r.code != 1 || !strings.Contains(r.stderr, "portal audit rekey") {
			t.Fatalf("token create with a key on a plain chain: exit %d %q", r.code, r.stderr)
		}
		if r := portal(t, keyed, "audit", "rekey"); r.code != 0 || !strings.Contains(r.stdout, "re-hashed: 1 event") {
			t.Fatalf("rekey: exit %d %q %q", r.code, r.stdout, r.stderr)
		}
		for i := 1; i <= 3; i++ {
			if r := mint(keyed, i); r.code != 0 {
				t.Fatal(r.stderr)
			}
		}
		if r := portal(t, keyed, "audit", "verify"); r.code != 0 || !strings.Contains(r.stdout, "4 event(s) verified; chain keyed (HMAC") {
			t.Fatalf("keyed verify: exit %d %q %q", r.code, r.stdout, r.stderr)
		}

		// Database write access alone: edit event 2, recompute every
		// hash after it as a plain chain.
		var evs []grants.AuditEvent
		db.Order("id").Find(&evs)
		prev := evs[0].Hash
		for i := 1; i < len(evs); i++ {
			e := &evs[i]
			if i == 1 {
				e.Actor = "mallory@example.com"
			}
			e.PrevHash = prev
			e.Hash = e.ComputeHash()
			db.Model(&grants.AuditEvent{}).Where("id = ?", e.ID).Updates(map[string]any{"actor": e.Actor, "prev_hash": e.PrevHash, "hash": e.Hash})
			prev = e.Hash
		}
		r := portal(t, keyed, "audit", "verify")
		if r.code != 1 || !strings.Contains(r.stderr, "audit event 2") || !strings.Contains(r.stderr, "keyed (HMAC") {
			t.Fatalf("keyed verify after a rewrite: exit %d, stderr %q; want 1 naming event 2 and the keyed chain", r.code, r.stderr)
		}
		// Nor does the portal append to the rewritten chain.
		if r := mint(keyed, 9); r.code != 1 || !strings.Contains(r.stderr, "not keyed by PORTAL_AUDIT_KEY") {
			t.Errorf("token create on a rewritten chain: exit %d %q", r.code, r.stderr)
		}
	})
}
