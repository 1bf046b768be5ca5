package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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

// tokensMine shows the signed-in person's API tokens and the form to
// create one.
func (s *Server) tokensMine(c echo.Context) error {
	return s.renderTokens(c, http.StatusOK, false, "", "", "")
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

// tokensCreate mints an API token for the signed-in person and shows its
// secret once.
func (s *Server) tokensCreate(c echo.Context) error {
	p, _, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	switch {
	case name == "":
		return s.renderTokens(c, http.StatusBadRequest, false, "", "", "Give the token a name that says where it is used, such as “laptop CLI”.")
	case utf8.RuneCountInString(name) > tokenNameMax:
		return s.renderTokens(c, http.StatusBadRequest, false, "", "", fmt.Sprintf("The name is too long: at most %d characters.", tokenNameMax))
	}
	var ttl time.Duration
	for _, l := range tokenLifetimes {
		if l.Value == c.FormValue("ttl") {
			ttl = l.TTL
		}
	}
	if ttl == 0 {
		return s.renderTokens(c, http.StatusBadRequest, false, "", "", "Choose one of the lifetimes offered.")
	}
	secret, _, err := s.store.CreateToken(c.Request().Context(), p.Email, name, ttl, s.now())
	if err != nil {
		return err
	}
	return s.renderTokens(c, http.StatusCreated, false, secret, name, "")
}

// tokensRevoke disables a token: one's own, or any for an admin.
func (s *Server) tokensRevoke(c echo.Context) error {
	id, err := idParam(c, "token")
	if err != nil {
		return err
	}
	p, admin, err := s.sessionPerson(c)
	if err != nil {
		return err
	}
	allowed := []string{"/tokens"}
	if admin {
		allowed = append(allowed, "/admin/tokens")
	}
	back := adminBack(c.FormValue("back"), allowed...)
	tok, err := s.store.RevokeToken(c.Request().Context(), id, p, admin, s.now())
	code, msg, refused := clientError(err)
	switch {
	case refused && code != http.StatusNotFound:
		s.flash(c, "Token not revoked: "+msg+".")
	case err != nil:
		return err
	default:
		s.flash(c, fmt.Sprintf("Token “%s” of %s revoked; it no longer works.", tok.Name, tok.Email))
	}
	return c.Redirect(http.StatusSeeOther, back)
}
