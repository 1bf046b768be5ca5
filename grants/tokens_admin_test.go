package grants_test

import (
	"errors"
	"testing"
	"time"

	"github.com/accessportal/portal/grants"
	"github.com/accessportal/portal/grants/database"
	"github.com/accessportal/portal/grants/database/dbtest"
)

func TestListTokensPagesNewestFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		for i := range 7 {
			email := "bob@example.com"
			if i%2 == 1 {
				email = "carol@example.com"
			}
			if _, _, err := grants.NewStore(db).CreateToken(t.Context(), email, "t", time.Hour, now.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		var ids []int64
		q := grants.TokenQuery{Limit: 3}
		for pages := 0; ; pages++ {
			page, err := grants.NewStore(db).ListTokens(t.Context(), q)
			if err != nil || pages > 5 {
				t.Fatalf("page %d: %v", pages, err)
			}
			for _, tok := range page.Tokens {
				ids = append(ids, tok.ID)
			}
			if !page.More {
				break
			}
			q.Before = page.Tokens[len(page.Tokens)-1].ID
		}
		if len(ids) != 7 || ids[0] != 7 || ids[6] != 1 {
			t.Errorf("all tokens paged as %v", ids)
		}
		page, _ := grants.NewStore(db).ListTokens(t.Context(), grants.TokenQuery{Email: " Carol@Example.com"})
		if len(page.Tokens) != 3 || page.More {
			t.Errorf("carol's tokens: %d (more %v)", len(page.Tokens), page.More)
		}
		for _, tok := range page.Tokens {
			if tok.Email != "carol@example.com" {
				t.Errorf("carol's list holds %s's token", tok.Email)
			}
		}
	})
}

func TestRevokeToken(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
		ctx := t.Context()
		secret, tok, err := grants.NewStore(db).CreateToken(ctx, "bob@example.com", "laptop", 0, now)
		if err != nil {
			t.Fatal(err)
		}
		bob := &grants.Person{Email: "bob@example.com", Status: grants.StatusActive}
		carol := &grants.Person{Email: "carol@example.com", Status: grants.StatusActive}
		alice := &grants.Person{Email: "alice@example.com", Status: grants.StatusActive}

		if _, err := grants.NewStore(db).RevokeToken(ctx, tok.ID, carol, false, now); !errors.Is(err, grants.ErrNotFound) {
			t.Errorf("someone else revoking: %v, want not found", err)
		}
		if _, err := grants.NewStore(db).RevokeToken(ctx, 999, alice, true, now); !errors.Is(err, grants.ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}
		if _, err := grants.NewStore(db).AuthenticateToken(ctx, secret, now); err != nil {
			t.Fatalf("token no longer works after refused revokes: %v", err)
		}
		got, err := grants.NewStore(db).RevokeToken(ctx, tok.ID, bob, false, now.Add(time.Minute))
		if err != nil || got.DisabledAt == nil || !got.DisabledAt.Equal(now.Add(time.Minute)) || got.Live(now.Add(time.Hour)) {
			t.Fatalf("owner revoking: %+v, %v", got, err)
		}
		if _, err := grants.NewStore(db).AuthenticateToken(ctx, secret, now.Add(2*time.Minute)); !errors.Is(err, grants.ErrInvalidToken) {
			t.Errorf("revoked token authenticates: %v", err)
		}
		if _, err := grants.NewStore(db).RevokeToken(ctx, tok.ID, alice, true, now); !errors.Is(err, grants.ErrConflict) {
			t.Errorf("revoking twice: %v, want conflict", err)
		}
		_, other, _ := grants.NewStore(db).CreateToken(ctx, "carol@example.com", "ci", time.Hour, now.Add(2*time.Minute))
		if _, err := grants.NewStore(db).RevokeToken(ctx, other.ID, alice, true, now.Add(3*time.Minute)); err != nil {
			t.Errorf("admin revoking: %v", err)
		}
		page, _ := grants.NewStore(db).ListAuditPage(ctx, grants.AuditPageQuery{AuditFilter: grants.AuditFilter{Action: "token.revoke"}})
		if len(page.Events) != 2 || page.Events[0].Actor != "alice@example.com" || page.Events[0].Target != "token:2" || page.Events[1].Actor != "bob@example.com" {
			t.Errorf("token.revoke audit: %+v", page.Events)
		}
		if n, err := grants.VerifyAudit(ctx, db.DB); err != nil || n != 4 {
			t.Errorf("audit chain after revokes: %d, %v", n, err)
		}
	})
}
