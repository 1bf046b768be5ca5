package web

import "github.com/labstack/echo/v4"

// The flash is the one way a handler tells the next page something: a
// one-time message kept in the session, shown by the page after a
// redirect (Post/Redirect/Get).

// flashKey is the session value holding a one-time message for the next page.
const flashKey = "flash"

// flash queues msg for the next page the person sees.
func (s *Server) flash(c echo.Context, msg string) {
	s.sessions.Put(c.Request().Context(), flashKey, msg)
}

// popFlash takes the queued message, if any.
func (s *Server) popFlash(c echo.Context) string {
	return s.sessions.PopString(c.Request().Context(), flashKey)
}
