package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/accessportal/portal/grants"
)

// adminTokensPageSize is how many API tokens one page lists.
const adminTokensPageSize = 50

// tokenNameMax bounds the name of an API token.
const tokenNameMax = 100

// tokenLifetimes are the lifetimes offered when creating a token in the
// browser; the first is the default. (`portal token create` can mint
// others.)
var tokenLifetimes = []struct {
	Value, Label string
	TTL          time.Duration
}{
	{"720h", "30 days", 30 * 24 * time.Hour},
	{"24h", "1 day", 24 * time.Hour},
	{"168h", "7 days", 7 * 24 * time.Hour},
	{"2160h", "90 days", 90 * 24 * time.Hour},
	{"8760h", "1 year", 365 * 24 * time.Hour},
}

// tokensPage lists API tokens: the signed-in person's own at /tokens,
// everybody's for admins at /admin/tokens.
type tokensPage struct {
	adminChrome
	// AdminView is /admin/tokens: everybody's tokens, filter by owner.
	AdminView bool
	Owner     string
	Tokens    []tokenRow
	Pages     adminPager
	Lifetimes []adminChoice
	// NewSecret is the secret of the token just created, shown once.
	NewSecret, NewName string
	Error              string
	// Back is this page, where revoke forms return to.
	Back string
}

// tokenRow is one API token.
type tokenRow struct {
	ID                                int64
	Email, Name                       string
	Created, Expires, LastUsed, Ended adminTime
	Live, Disabled                    bool
}

// adminTokens shows everybody's API tokens (owner= narrows to one person).
func (s *Server) adminTokens(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, true, "", "", "")
}

// renderTokens renders the token list, with a new secret or an error.
func (s *Server) renderTokens(c echo.Context, code int, adminView bool, secret, name, problem string) error {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	before, err := adminCursor(c, "before")
	if err != nil {
		return err
	}
	q := c.QueryParams()
	path := "/tokens"
	page := tokensPage{AdminView: adminView, NewSecret: secret, NewName: name, Error: problem}
	query := grants.TokenQuery{Email: p.Email, Before: before, Limit: adminTokensPageSize}
	if adminView {
		path = "/admin/tokens"
		page.Owner = strings.ToLower(strings.TrimSpace(q.Get("owner")))
		query.Email = page.Owner
	}
	list, err := s.store.ListTokens(c.Request().Context(), query)
	if err != nil {
		return err
	}
	now := s.now()
	for _, t := range list.Tokens {
		row := tokenRow{
			ID: t.ID, Email: t.Email, Name: t.Name, Created: newAdminTime(t.CreatedAt),
			Expires: newAdminTimePtr(t.ExpiresAt), LastUsed: newAdminTimePtr(t.LastUsedAt),
			Live: t.Live(now), Disabled: t.DisabledAt != nil,
		}
		if t.DisabledAt != nil {
			row.Ended = newAdminTime(*t.DisabledAt)
		}
		page.Tokens = append(page.Tokens, row)
	}
	page.Pages.First = adminPageURL(path, adminWithParam(q, "before", ""))
	if list.More {
		page.Pages.Next = adminPageURL(path, adminWithParam(q, "before", fmt.Sprint(list.Tokens[len(list.Tokens)-1].ID)))
	}
	for i, l := range tokenLifetimes {
		page.Lifetimes = append(page.Lifetimes, adminChoice{Value: l.Value, Label: l.Label, Selected: i == 0})
	}
	page.Back = path
	if c.Request().Method == http.MethodGet {
		page.Back = c.Request().URL.RequestURI()
	}
	if adminView {
		page.adminChrome = s.newAdminChrome(c, "/admin/tokens")
	} else {
		page.Flash = s.popFlash(c)
	}
	if secret != "" {
		// The page holds a secret: keep it out of every cache.
		c.Response().Header().Set("Cache-Control", "no-store")
	}
	return s.render(c, code, "admin_tokens.html", page)
}
